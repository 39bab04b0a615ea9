import type { Env } from './env.js';
import { tooManyRequests } from './http/responses.js';

/**
 * The Rate Limiting bindings (`[[ratelimits]]` in wrangler.toml), one per budget. Cloudflare counts
 * them per location, shared by every isolate there, so a caller cannot multiply its budget by landing
 * on many isolates (SECURITY row 19). `simple = { limit, period }` is set per binding in wrangler.toml.
 *
 * - `RL_CALLER`: one caller's `/api` calls to one vendor.
 * - `RL_VENDOR`: every caller's `/api` calls to one vendor together, so callers who rotate their
 *   address (or many real ones) still cannot spend the vendor's quota beyond it.
 * - `RL_FLOW_CALLER`: one caller's `/link/*` (but `status`) and `/token/*` calls to one vendor, and
 *   its `/reset` calls. Linking is rare for a person, so this budget is small.
 * - `RL_FLOW_VENDOR`: every caller's calls of one linking action (`start`, `callback`, `authorize`,
 *   `token`, …) of one vendor together: each may cost a token request with the client secret.
 * - `RL_STATUS`: one caller's `/status` and `/link/:vendor/status` reads (Durable Object calls; the
 *   demo's panel polls `/status` every 2 s per tab, so its development budget is larger than an
 *   operator needs).
 */
export const RATE_LIMIT_BINDINGS = ['RL_CALLER', 'RL_VENDOR', 'RL_FLOW_CALLER', 'RL_FLOW_VENDOR', 'RL_STATUS'] as const;
export type RateLimitBinding = (typeof RATE_LIMIT_BINDINGS)[number];

/** What a route costs: the proxy, a linking flow (link, token), the status panel or an operator reset. */
export type LimitScope = 'api' | 'flow' | 'status' | 'reset';

/**
 * Seconds a refused caller is told to wait: the binding says only yes or no, and its window is at
 * most this long, so this is an upper bound, never too short.
 */
export const RATE_LIMIT_RETRY_AFTER = 60;

/**
 * Who the caller is for the per-caller budgets. In production Cloudflare sets `CF-Connecting-IP` to
 * the client's address and a client cannot override it. Under `wrangler dev` nothing in front of the
 * Worker sets it, so the caller can send any value: locally the per-caller budget is only as good as
 * the caller is honest, and the per-vendor budget is what bounds a caller who rotates it.
 */
export function callerOf(request: Request): string {
  return request.headers.get('cf-connecting-ip') ?? 'unknown';
}

/**
 * Takes one call of `scope` for `caller` (and, where the scope has one, for `vendor` as a whole, per
 * linking `action`).
 * Answers the seconds to wait when a budget is spent, or undefined to go on.
 */
export async function rateLimited(env: Env, scope: LimitScope, caller: string, vendor = '', action = ''): Promise<number | undefined> {
  const limiter = (name: RateLimitBinding): RateLimit => env[name] as RateLimit;
  const checks: [RateLimitBinding, string][] =
    scope === 'api'
      ? [['RL_CALLER', `api:${vendor}:${caller}`], ['RL_VENDOR', `api:${vendor}`]]
      : scope === 'flow'
        ? [['RL_FLOW_CALLER', `flow:${vendor}:${caller}`], ['RL_FLOW_VENDOR', `flow:${vendor}:${action}`]]
        : scope === 'status'
          ? [['RL_STATUS', `status:${caller}`]]
          : [['RL_FLOW_CALLER', `reset:${caller}`]];
  for (const [name, key] of checks) {
    if (!(await limiter(name).limit({ key })).success) return RATE_LIMIT_RETRY_AFTER;
  }
  return undefined;
}

/** {@link rateLimited} as the 429 to answer, or undefined to go on. */
export async function limitedAnswer(env: Env, scope: LimitScope, caller: string, vendor = '', action = '', headers: Headers = new Headers()): Promise<Response | undefined> {
  const retryAfter = await rateLimited(env, scope, caller, vendor, action);
  return retryAfter === undefined ? undefined : tooManyRequests(retryAfter, headers);
}
