/**
 * The vendor sandbox: one web-standard `fetch(Request) → Response` that plays Instabox, Eshopbox, instellix,
 * Shopware and Instacart Connect as their documents (`shared/seeds/`) describe them, quirks included, so
 * tokengate runs and is tested offline. No `node:` or Cloudflare-only APIs; state lives in memory.
 *
 * @module
 */
import { DEFAULT_LIFETIMES, SANDBOX_CREDENTIALS } from './credentials.js';
import { setFault, statsSnapshot } from './control.js';
import { echo } from './echo.js';
import { eshopboxRoutes } from './eshopbox.js';
import { faultAnswer } from './fault-answers.js';
import { empty, json, methodNotAllowed, notFound } from './http.js';
import { instaboxRoutes } from './instabox.js';
import { instacartRoutes } from './instacart.js';
import { instellixRoutes } from './instellix.js';
import { oauth2Routes } from './oauth2.js';
import type { Route } from './route.js';
import { shopwareRoutes } from './shopware.js';
import { createState } from './state.js';
import type { Sandbox, SandboxConfig, SandboxOptions } from './types.js';

export { DEFAULT_LIFETIMES, SANDBOX_CREDENTIALS } from './credentials.js';
export type { Sandbox, SandboxCredentials, SandboxOptions, SandboxStats, VendorName } from './types.js';

/** First match wins: each vendor lists its token route before any catch-all. */
const ROUTES: readonly Route[] = [...instaboxRoutes, ...eshopboxRoutes, ...instellixRoutes, ...shopwareRoutes, ...instacartRoutes, ...oauth2Routes];

/** The mount point; the sandbox reads only what follows it, so it works behind any origin. */
const MOUNT = '/sandbox';

function relativePath(pathname: string): string {
  if (pathname === MOUNT) return '/';
  return pathname.startsWith(`${MOUNT}/`) ? pathname.slice(MOUNT.length) : pathname;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Makes a sandbox with its own in-memory state.
 *
 * - Token endpoints count into `stats().tokenRequests`, then take the vendor's armed fault, if any.
 * - `POST /_faults`, `GET /_stats`, `POST /_reset` drive it from outside (tests, the dev demo).
 * - Every answer is `Cache-Control: no-store`, and none carries a secret, token, code or verifier it was sent.
 */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const config: SandboxConfig = {
    now: options.now ?? Date.now,
    lifetimes: { ...DEFAULT_LIFETIMES, ...options.lifetimes },
    credentials: { ...SANDBOX_CREDENTIALS, ...options.credentials },
    sleep: options.sleep ?? defaultSleep,
  };
  let state = createState(config);

  async function route(request: Request, path: string): Promise<Response> {
    for (const candidate of ROUTES) {
      const match = candidate.pattern.exec(path);
      if (match === null) continue;
      if (!candidate.methods.includes(request.method)) return methodNotAllowed(candidate.methods);
      const current = state;
      const context = { request, params: match.groups ?? {}, state: current };
      if (candidate.kind === 'api') {
        current.stats.apiCalls[candidate.vendor] += 1;
        return candidate.handle(context);
      }
      current.stats.tokenRequests[candidate.vendor] += 1;
      const fault = current.faults.take(candidate.vendor);
      if (fault !== undefined) {
        const kind = fault.fault;
        if (kind !== 'slow') return faultAnswer(kind, fault.retryAfter, candidate.vendor);
        await config.sleep(fault.delayMs);
      }
      return candidate.handle(context);
    }
    return notFound();
  }

  async function control(request: Request, path: string): Promise<Response | undefined> {
    switch (path) {
      case '/_faults':
        return request.method === 'POST' ? setFault(state, request) : methodNotAllowed(['POST']);
      case '/_stats':
        return request.method === 'GET' ? json(statsSnapshot(state)) : methodNotAllowed(['GET']);
      case '/_reset':
        if (request.method !== 'POST') return methodNotAllowed(['POST']);
        state = createState(config);
        return empty(204);
      default:
        return path.startsWith('/_echo/') ? echo(request, path) : undefined;
    }
  }

  return {
    async fetch(request) {
      const path = relativePath(new URL(request.url).pathname);
      try {
        return (await control(request, path)) ?? (await route(request, path));
      } catch {
        // Never a stack or a message: they could carry what the client sent.
        return json({ error: 'server_error', message: 'The sandbox failed to answer this request' }, 500);
      }
    },
    stats() {
      return statsSnapshot(state);
    },
  };
}
