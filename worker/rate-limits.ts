import type { Env } from './env.js';
import { tooManyRequests } from './http/responses.js';

/**
 * The Rate Limiting bindings (`[[ratelimits]]` in wrangler.toml), one per budget. Cloudflare counts
 * them per location, shared by every isolate there, so a caller cannot multiply its budget by landing
 * on many isolates (SECURITY row 19). `simple = { limit, period }` is set per binding in wrangler.toml.
 *
 * Every budget belongs to one caller: none is shared, so no handful of callers can spend one and shut
 * the rest out (SECURITY row 32). What bounds the vendor as a whole is elsewhere: each credential's
 * Durable Object (single-flight token requests, one renewal per window, the vendor's minimum interval)
 * and the vendor's own 429 and `Retry-After`, honoured for every caller (worker/vendor-wait.ts). The
 * bound on vendor calls per minute is in docs/worker-design.md, "Limits".
 *
 * - `RL_CALLER`: one caller's `/api` calls to one vendor, key routes included: a wrong key is counted
 *   before it is compared, so guessing meets 429 like any other flood.
 * - `RL_FLOW_CALLER`: one caller's `/link/*` (but `status`) and `/token/*` calls to one vendor, and
 *   its `/reset` calls. Linking is rare for a person, so this budget is small. A callback that is
 *   refused before it costs anything (no transaction cookie) is not counted.
 * - `RL_STATUS`: one caller's `/status` and `/link/:vendor/status` reads (Durable Object calls; the
 *   demo's panel polls `/status` every 2 s per tab, so its development budget is larger than an
 *   operator needs).
 */
export const RATE_LIMIT_BINDINGS = ['RL_CALLER', 'RL_FLOW_CALLER', 'RL_STATUS'] as const;
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
 * the caller is honest, and what bounds a caller who rotates it is each credential's Durable Object
 * (its renewal budget) and the vendor's own 429 (docs/worker-design.md, "Limits").
 */
export function callerOf(request: Request): string {
  return request.headers.get('cf-connecting-ip') ?? 'unknown';
}

/**
 * A budget's key: what it counts, then whose it is. Every key names its owner (the caller; later the
 * tenant in front of it, so one tenant's callers never spend another's), never only a vendor or a route.
 */
export function budgetKey(scope: LimitScope, caller: string, vendor = ''): string {
  return vendor === '' ? `${scope}:${caller}` : `${scope}:${vendor}:${caller}`;
}

const BINDING_OF: Record<LimitScope, RateLimitBinding> = { api: 'RL_CALLER', flow: 'RL_FLOW_CALLER', status: 'RL_STATUS', reset: 'RL_FLOW_CALLER' };

/**
 * Takes one call of `scope` for `caller` (per `vendor` where the scope has one): one Rate Limiting
 * binding call, the only thing the proxy's hot path awaits before the upstream fetch.
 * Answers the seconds to wait when the budget is spent, or undefined to go on.
 */
export async function rateLimited(env: Env, scope: LimitScope, caller: string, vendor = ''): Promise<number | undefined> {
  const { success } = await (env[BINDING_OF[scope]] as RateLimit).limit({ key: budgetKey(scope, caller, vendor) });
  return success ? undefined : RATE_LIMIT_RETRY_AFTER;
}

/** {@link rateLimited} as the 429 to answer, or undefined to go on. */
export async function limitedAnswer(env: Env, scope: LimitScope, caller: string, vendor = '', headers: Headers = new Headers()): Promise<Response | undefined> {
  const retryAfter = await rateLimited(env, scope, caller, vendor);
  return retryAfter === undefined ? undefined : tooManyRequests(retryAfter, headers);
}
