import { ConfigError, loadConfig, type Config } from './config.js';
import type { Env } from './env.js';
import { errorResponse, json } from './http/responses.js';
import { log } from './log.js';
import { callerOf, limitedAnswer } from './rate-limits.js';
import { handleApi } from './routes/api.js';
import { handleLink } from './routes/link.js';
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

const API = /^\/api\/([a-z][a-z0-9-]*)(\/.*)?$/;
const LINK = /^\/link\/([a-z][a-z0-9-]*)\/([a-z]+)$/;
const TOKEN = /^\/token\/([a-z][a-z0-9-]*)$/;
const RESET = /^\/reset\/([a-z][a-z0-9-]*)$/;

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
    if (url.pathname === '/healthz') return json({ ok: true, service: 'tokengate' });
    const state = load(env);
    // The names of what is missing go to the log (at first load), never on the wire (row 27).
    if ('error' in state) return errorResponse(500, 'configuration_error', 'The Worker is not configured correctly; its log says what to fix');
    const { config } = state;
    const caller = callerOf(request);
    try {
      const api = API.exec(url.pathname);
      if (api) {
        // The path after the vendor, from the raw URL: URL.pathname has already resolved dot segments.
        const raw = request.url.slice(request.url.indexOf('/api/') + 5 + api[1]!.length);
        return await handleApi(request, { env, config, caller }, api[1]!, raw);
      }
      const link = LINK.exec(url.pathname);
      if (link) return await handleLink(request, { env, config, caller }, link[1]!, link[2]!);
      const token = TOKEN.exec(url.pathname);
      if (token) return await handleToken(request, { env, config, caller }, token[1]!);
      if (url.pathname === '/status') return (await limitedAnswer(env, 'status', caller)) ?? (await handleStatus(request, env, config));
      const reset = RESET.exec(url.pathname);
      if (reset) return (await limitedAnswer(env, 'reset', caller)) ?? (await handleReset(request, env, config, reset[1]!));
      if (env.ASSETS !== undefined) return withSandboxConnect(await env.ASSETS.fetch(request), config.sandboxOrigin);
      return errorResponse(404, 'not_found', 'Not found');
    } catch (error) {
      // Anything unexpected: a 500 that says nothing about its cause to the caller; the log has the kind.
      log({ at: 'unhandled', path: url.pathname, kind: error instanceof Error ? error.name : typeof error });
      return errorResponse(500, 'internal_error', 'Internal error');
    }
  },
} satisfies ExportedHandler<Env>;
