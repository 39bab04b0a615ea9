import { ConfigError, loadConfig, type Config } from './config.js';
import type { Env } from './env.js';
import { errorResponse, json } from './http/responses.js';
import { refuseRequestHead } from './http/request-head.js';
import { log } from './log.js';
import { callerOf, limitedAnswer } from './rate-limits.js';
import { handleApi } from './routes/api.js';
import { corsFields, preflight } from './proxy/cors.js';
import { handleLink } from './routes/link.js';
import { handleProbe } from './routes/probe.js';
import { handleReset, handleStatus } from './routes/status.js';
import { handleToken } from './routes/token.js';
import { upstreamFetch } from './upstream.js';

export { TokenCoordinator } from './coordinator.js';

/** Checked once per isolate, at the first request (a Worker has no start-up hook with env). */
let loaded: { env: Env; config: Config } | { env: Env; error: ConfigError } | undefined;

function load(env: Env): { config: Config } | { error: ConfigError } {
  if (loaded?.env !== env) {
    try {
      const config = loadConfig(env, upstreamFetch);
      loaded = { env, config };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      log({ at: 'config', error: error.message });
      loaded = { env, error };
    }
  }
  return loaded;
}

// Any case, so that `/api/Instabox` is told the vendor names are lower case instead of finding no file.
const API = /^\/api\/([A-Za-z][A-Za-z0-9-]{0,31})(\/.*)?$/;
const LINK = /^\/link\/([a-z][a-z0-9-]*)\/([a-z]+)$/;
const TOKEN = /^\/token\/([a-z][a-z0-9-]*)$/;
const RESET = /^\/reset\/([a-z][a-z0-9-]*)$/;
const PROBE = '/session/probe';

/** The methods each browser-facing linking route answers, for its CORS preflight. */
const LINK_METHODS: Record<string, string[]> = { start: ['GET', 'POST'], callback: ['GET'], status: ['GET'], config: ['GET'], unlink: ['POST'], authorize: ['POST'] };

/**
 * The linking, token and probe answers for a storefront page on another origin of the site (the
 * embed on a sibling host): CORS with credentials for an exactly listed Origin only, `Vary: Origin`
 * always (SECURITY row 12). The routes' own checks (Origin + CSRF header on every state change) are
 * unchanged; this only lets a listed page read the answer.
 */
function withCors(response: Response, request: Request, config: Config): Response {
  const fields = corsFields(request.headers.get('origin'), config.allowedOrigins, { credentials: true, exposeHeaders: ['retry-after'] });
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(fields)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * The path under BASE_PATH (`/tokengate/link/x/start` → `/link/x/start`), or undefined when it is
 * outside it; with no base path, the path itself.
 */
function underBase(pathname: string, basePath: string): string | undefined {
  if (basePath === '') return pathname;
  if (pathname === basePath) return '/';
  return pathname.startsWith(`${basePath}/`) ? pathname.slice(basePath.length) : undefined;
}

/**
 * With the local sandbox, the demo page drives the sandbox's controls on the sandbox's own origin: its
 * Content-Security-Policy (web-demo/_headers) gets that one origin in `connect-src`. Nothing changes
 * without a sandbox.
 */
function withSandboxConnect(response: Response, sandboxOrigin: string | undefined): Response {
  const policy = response.headers.get('content-security-policy');
  if (sandboxOrigin === undefined || policy === null || /(?:^|;)\s*connect-src/.test(policy)) return response;
  const headers = new Headers(response.headers);
  headers.set('content-security-policy', `${policy}; connect-src 'self' ${sandboxOrigin}`);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const rawBase = typeof env['BASE_PATH'] === 'string' ? env['BASE_PATH'] : '';
    const refused = refuseRequestHead(request);
    if (refused !== undefined) return refused;
    // Under BASE_PATH only: the host's other paths are the storefront's, not the Worker's.
    if (url.pathname === `${rawBase}/healthz`) return json({ ok: true, service: 'tokengate' });
    const state = load(env);
    // The names of what is missing go to the log (at first load), never on the wire (row 27).
    if ('error' in state) return errorResponse(500, 'configuration_error', 'The Worker is not configured correctly; its log says what to fix');
    const { config } = state;
    const caller = callerOf(request);
    // Mounted under BASE_PATH (a route of the storefront's host): nothing outside it is the Worker's.
    const path = underBase(url.pathname, config.basePath);
    if (path === undefined) return errorResponse(404, 'not_found', 'Not found');
    try {
      const api = API.exec(path);
      if (api) {
        // The path after the vendor, from the raw URL: URL.pathname has already resolved dot segments.
        const prefix = `${config.basePath}/api/${api[1]!}`;
        const raw = request.url.slice(request.url.indexOf(prefix, url.origin.length) + prefix.length);
        return await handleApi(request, { env, config, caller }, api[1]!, raw);
      }
      const link = LINK.exec(path);
      if (link) {
        if (request.method === 'OPTIONS') return preflight(request, config.allowedOrigins, config.vendors.get(link[1]!)?.link === undefined || !Object.hasOwn(LINK_METHODS, link[2]!) ? [] : LINK_METHODS[link[2]!]!);
        return withCors(await handleLink(request, { env, config, caller }, link[1]!, link[2]!), request, config);
      }
      const token = TOKEN.exec(path);
      if (token) {
        if (request.method === 'OPTIONS') return preflight(request, config.allowedOrigins, config.vendors.get(token[1]!)?.link === undefined ? [] : ['POST']);
        return withCors(await handleToken(request, { env, config, caller }, token[1]!), request, config);
      }
      if (path === PROBE) {
        if (request.method === 'OPTIONS') return preflight(request, config.allowedOrigins, ['GET']);
        return withCors(handleProbe(request), request, config);
      }
      if (path === '/status') return (await limitedAnswer(env, 'status', caller)) ?? (await handleStatus(request, env, config));
      const reset = RESET.exec(path);
      if (reset) return (await limitedAnswer(env, 'reset', caller)) ?? (await handleReset(request, env, config, reset[1]!));
      if (env.ASSETS !== undefined) {
        // The static files live at the root of the assets directory, whatever the Worker is mounted under.
        const assetRequest = config.basePath === '' ? request : new Request(new URL(`${path}${url.search}`, url.origin), request);
        return withSandboxConnect(await env.ASSETS.fetch(assetRequest), config.sandboxOrigin);
      }
      return errorResponse(404, 'not_found', 'Not found');
    } catch (error) {
      // Anything unexpected: a 500 that says nothing about its cause to the caller; the log has the kind.
      log({ at: 'unhandled', path: url.pathname, kind: error instanceof Error ? error.name : typeof error });
      return errorResponse(500, 'internal_error', 'Internal error');
    }
  },
} satisfies ExportedHandler<Env>;
