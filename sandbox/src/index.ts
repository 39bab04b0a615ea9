/**
 * The vendor sandbox: one web-standard `fetch(Request) → Response` that plays Instabox, Eshopbox, instellix,
 * Shopware and Instacart Connect as their documents describe them, quirks included, so tokengate runs and
 * is tested offline. No `node:` or Cloudflare-only APIs: the state lives in a {@link SandboxStorage}.
 *
 * @module
 */
import { DEFAULT_LIFETIMES, SANDBOX_CREDENTIALS } from './credentials.js';
import { setFault, statsSnapshot } from './control.js';
import { echo, echoRoutes } from './echo.js';
import { eshopboxRoutes } from './eshopbox.js';
import { faultAnswer } from './fault-answers.js';
import { empty, json, mediaType, methodNotAllowed, notFound } from './http.js';
import { instaboxRoutes } from './instabox.js';
import { instacartRoutes } from './instacart.js';
import { instellixRoutes } from './instellix.js';
import { oauth2Routes } from './oauth2.js';
import type { Route } from './route.js';
import { shopwareRoutes } from './shopware.js';
import { loadState, saveCounters } from './state.js';
import { deleteAll, memoryStorage } from './storage.js';
import type { Sandbox, SandboxConfig, SandboxOptions } from './types.js';

export { DEFAULT_LIFETIMES, SANDBOX_CREDENTIALS } from './credentials.js';
export type { Sandbox, SandboxCredentials, SandboxOptions, SandboxStats, VendorName } from './types.js';
export { memoryStorage, type SandboxStorage } from './storage.js';

/** First match wins: each vendor lists its token route before any catch-all. */
const ROUTES: readonly Route[] = [...instaboxRoutes, ...echoRoutes, ...eshopboxRoutes, ...instellixRoutes, ...shopwareRoutes, ...instacartRoutes, ...oauth2Routes];

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The control routes change or read the sandbox itself. A cross-site page can send a "simple" request
 * (a `no-cors` POST with `text/plain`) to any origin, so a POST control needs `application/json`, which
 * only a CORS-approved caller can send; GETs change nothing.
 */
const CONTROL = /^\/_(?:faults|reset|stats)$/;

/**
 * The standard OAuth 2.0 server's endpoints a single-page app calls from its own origin: metadata,
 * token and revocation. As a real authorization server does for public clients, they answer CORS for
 * any origin, without credentials (no cookie is involved; the consent page is a navigation).
 */
const PUBLIC_CORS = /^\/(?:\.well-known\/oauth-authorization-server\/oauth2|oauth2\/\.well-known\/oauth-authorization-server|oauth2\/(?:token|revoke))$/;

/**
 * Makes a sandbox over `options.storage` (its Durable Object's storage in the sandbox Worker).
 *
 * - Token endpoints count into `stats().tokenRequests`, then take the vendor's armed fault, if any.
 * - `POST /_faults`, `GET /_stats`, `POST /_reset` drive it from outside (tests, the dev demo); a POST
 *   control must be `application/json`, and CORS admits exactly `options.allowedOrigins`, never with
 *   credentials.
 * - Every answer is `Cache-Control: no-store`, and none carries a secret, token, code or verifier it was sent.
 */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const config: SandboxConfig = {
    now: options.now ?? Date.now,
    lifetimes: { ...DEFAULT_LIFETIMES, ...options.lifetimes },
    credentials: { ...SANDBOX_CREDENTIALS, ...options.credentials },
    sleep: options.sleep ?? defaultSleep,
  };
  const storage = options.storage ?? memoryStorage();
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  let state = loadState(config, storage);

  async function route(request: Request, path: string): Promise<Response> {
    for (const candidate of ROUTES) {
      const match = candidate.pattern.exec(path);
      if (match === null) continue;
      if (!candidate.methods.includes(request.method)) return methodNotAllowed(candidate.methods);
      const current = state;
      const context = { request, params: match.groups ?? {}, state: current };
      if (candidate.kind === 'api') current.stats.apiCalls[candidate.vendor] += 1;
      else current.stats.tokenRequests[candidate.vendor] += 1;
      if (candidate.kind === 'api' && candidate.faults !== true) return candidate.handle(context);
      const fault = current.faults.take(candidate.vendor);
      if (fault !== undefined) {
        const kind = fault.fault;
        if (kind !== 'slow') {
          // Unread, the request body would still be streaming in after the answer went out, which
          // workerd reports as an uncaught error in the console of every injected fault. A token
          // request's body is small: read it to its end.
          await request.arrayBuffer().catch(() => undefined);
          return faultAnswer(kind, fault.retryAfter, candidate.vendor);
        }
        await config.sleep(fault.delayMs);
      }
      return candidate.handle(context);
    }
    return notFound();
  }

  async function control(request: Request, path: string): Promise<Response | undefined> {
    if (CONTROL.test(path) && request.method === 'POST' && mediaType(request) !== 'application/json') {
      return json({ error: 'unsupported_media_type', message: 'Sandbox controls take a JSON body (Content-Type: application/json)' }, 415);
    }
    switch (path) {
      case '/_faults':
        return request.method === 'POST' ? setFault(state, request) : methodNotAllowed(['POST']);
      case '/_stats':
        return request.method === 'GET' ? json(statsSnapshot(state)) : methodNotAllowed(['GET']);
      case '/_reset':
        if (request.method !== 'POST') return methodNotAllowed(['POST']);
        deleteAll(storage);
        state = loadState(config, storage);
        return empty(204);
      default:
        return path.startsWith('/_echo/') && path !== '/_echo/token' ? echo(state, request, path) : undefined;
    }
  }

  /** CORS for the controls: the listed origins only, no credentials (no cookie ever reaches a control). */
  function cors(request: Request, path: string): Record<string, string> | undefined {
    const origin = request.headers.get('origin');
    if (origin !== null && PUBLIC_CORS.test(path)) return { 'access-control-allow-origin': '*' };
    if (origin === null || !allowedOrigins.has(origin) || !CONTROL.test(path)) return undefined;
    return { 'access-control-allow-origin': origin, vary: 'Origin' };
  }

  return {
    async fetch(request) {
      const path = new URL(request.url).pathname;
      const allow = cors(request, path);
      if (request.method === 'OPTIONS' && (CONTROL.test(path) || PUBLIC_CORS.test(path))) {
        if (allow === undefined) return empty(403);
        const headers = CONTROL.test(path) ? 'content-type' : 'authorization, content-type, accept, dpop';
        return empty(204, { ...allow, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': headers, 'access-control-max-age': '600' });
      }
      try {
        const response = (await control(request, path)) ?? (await route(request, path));
        if (allow !== undefined) for (const [name, value] of Object.entries(allow)) response.headers.set(name, value);
        return response;
      } catch {
        // Never a stack or a message: they could carry what the client sent.
        return json({ error: 'server_error', message: 'The sandbox failed to answer this request' }, 500);
      } finally {
        saveCounters(state);
      }
    },
    stats() {
      return statsSnapshot(state);
    },
  };
}
