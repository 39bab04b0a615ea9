import { timingSafeEqual } from 'tokengate';
import type { Config, VendorRuntime } from '../config.js';
import type { Env } from '../env.js';
import { bodyRefused, readCappedBody } from '../http/body.js';
import { errorResponse } from '../http/responses.js';
import { log } from '../log.js';
import { checkProxyPath, ProxyPathError } from '../proxy/path.js';
import { checkBrowserCsrf, corsFields, corsHeaders, preflight } from '../proxy/cors.js';
import { clientResponseHeaders, upstreamRequestHeaders } from '../proxy/headers.js';
import { limitedAnswer } from '../rate-limits.js';
import { sessionOf } from '../session.js';
import { noteVendorRetryAfter, sendWithToken, type Credential } from '../token-cache.js';
import { vendorWait } from '../vendor-wait.js';
import { sendWithDpop } from '../proxy/dpop.js';

/** Largest request body the proxy buffers (it must be able to send it twice, after a 401). */
const MAX_BODY = 1024 * 1024;

export interface ApiContext {
  env: Env;
  config: Config;
  /** The caller's address as the edge saw it, for per-caller limits (rate-limits.ts `callerOf`). */
  caller: string;
}

/**
 * `/api/:vendor/*`: forwards allow-listed method + path pairs to the vendor's one upstream with a
 * cached bearer token. One refresh and one retry on an upstream 401; redirects are never followed;
 * the caller's credentials never go upstream and the upstream's cookies never come back.
 */
export async function handleApi(request: Request, ctx: ApiContext, vendorName: string, rest: string): Promise<Response> {
  const { config } = ctx;
  const origin = request.headers.get('origin');
  const vendor = config.vendors.get(vendorName);
  const corsOptions = { credentials: true, methods: vendor?.methods ?? [], allowHeaders: ['content-type', 'accept', 'x-tokengate-csrf'] };
  const cors = (): Headers => corsHeaders(origin, config.allowedOrigins, corsOptions);
  if (vendor === undefined) return errorResponse(404, 'unknown_vendor', unknownVendor(vendorName, config), cors());
  // `/api/instabox` alone: the vendor's API path is what is missing, not a slash.
  if (rest === '' || rest.startsWith('?')) {
    return errorResponse(404, 'route_not_allowed', `Name the ${vendor.name} API path after /api/${vendor.name}, e.g. /api/${vendor.name}${vendor.allowlist.routes[0]?.path ?? '/…'}`, cors());
  }
  let target: { path: string; search: string };
  try {
    target = checkProxyPath(rest);
  } catch (error) {
    if (request.method === 'OPTIONS') return preflight(request, config.allowedOrigins, []);
    if (error instanceof ProxyPathError) return errorResponse(400, 'invalid_path', error.message, cors(), { reason: error.code });
    throw error;
  }
  // A preflight succeeds only for a method the allowlist has for this very path (row 27).
  if (request.method === 'OPTIONS') return preflight(request, config.allowedOrigins, vendor.allowlist.allowedMethods(target.path));
  const match = vendor.allowlist.match(request.method, target.path);
  if ('error' in match) {
    if (match.error === 'METHOD_NOT_ALLOWED') {
      const headers = cors();
      headers.set('allow', (match.allowed ?? []).join(', '));
      return errorResponse(405, 'method_not_allowed', `${request.method} is not allowed on this path`, headers);
    }
    return errorResponse(404, 'route_not_allowed', 'This path is not on the allowlist for this vendor', cors());
  }

  // Browser calls (they carry an Origin or a cookie) need an exact Origin match and the custom header.
  const csrf = checkBrowserCsrf(request, config.allowedOrigins);
  if (csrf !== 'ok') {
    return errorResponse(403, 'csrf', csrf === 'MISSING_HEADER' ? 'Browser calls need the X-Tokengate-CSRF: 1 header' : origin === null ? 'A call that sends a cookie must come from a page of an allowed origin, and this one sent no Origin header' : 'This origin may not call the API', cors());
  }

  // The caller's one budget (the only await before the upstream fetch on a warm token), taken before
  // any key is compared, so guessing keys meets 429 like any other flood.
  const limited = await limitedAnswer(ctx.env, 'api', ctx.caller, vendor.name, cors());
  if (limited !== undefined) return limited;

  const access = match.route.access;
  let credential: Credential = { kind: 'app', vendor: vendor.name };
  if (access === 'key') {
    const presented = request.headers.get('x-tokengate-key') ?? '';
    if (config.apiKey === undefined || !timingSafeEqual(presented, config.apiKey)) {
      return errorResponse(401, 'invalid_api_key', 'This route needs a valid X-Tokengate-Key', cors());
    }
  } else if (access === 'session') {
    const session = sessionOf(request);
    if (session === undefined) return errorResponse(401, 'not_linked', `Link your ${vendor.name} account first`, cors());
    credential = { kind: 'session', vendor: vendor.name, session };
  }
  // The vendor asked the app credential's calls to wait (its own 429's Retry-After): no caller reaches it
  // until then. A session's wait is its object's, told with its token (worker/vendor-wait.ts).
  const wait = credential.kind === 'app' ? vendorWait(vendor.name) : undefined;
  if (wait !== undefined) return vendorWaiting(vendor.name, wait, cors());

  let body: Uint8Array | undefined;
  if (request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null) {
    const read = await readCappedBody(request, MAX_BODY);
    if (!read.ok) return bodyRefused(read.reason, MAX_BODY, cors());
    body = read.bytes;
  }

  const url = upstreamUrl(vendor, target);
  const started = Date.now();
  let outcome: Awaited<ReturnType<typeof sendWithToken>>;
  try {
    outcome = await sendWithToken(ctx.env, config, credential, (accessToken, tokenType) => {
      // A DPoP-bound token goes with a proof of the credential's key (RFC 9449 §7); a server that
      // answered a DPoP vendor's token request with a bearer token gets it as a bearer token.
      const dpop = vendor.dpop && tokenType.toLowerCase() === 'dpop';
      // Each try has the vendor's deadline, answer body included (row 21).
      const init: RequestInit = { method: request.method, headers: upstreamRequestHeaders(request.headers, accessToken, dpop ? 'DPoP' : 'Bearer'), body: body ?? null, redirect: 'manual', signal: AbortSignal.timeout(vendor.deadlineMs) };
      return dpop ? sendWithDpop(ctx.env, config, credential, url, init) : config.fetch(url, init);
    });
  } catch (error) {
    if (!(error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))) throw error;
    log({ at: 'api', vendor: vendor.name, method: request.method, path: match.route.path, status: 504, ms: Date.now() - started });
    return errorResponse(504, 'upstream_timeout', `The vendor did not answer within ${vendor.deadlineMs} ms`, cors());
  }
  if (!outcome.ok) return tokenFailure(outcome, cors(), credential.kind === 'session');
  const upstream = outcome.value;
  // The platform's request log already has every call; ours adds the vendor and route of the failures.
  if (upstream.status >= 400) log({ at: 'api', vendor: vendor.name, method: request.method, path: match.route.path, status: upstream.status, ms: Date.now() - started });
  if (upstream.status === 429) await noteVendorRetryAfter(ctx.env, credential, upstream.headers.get('retry-after'));
  // 304 Not Modified is an answer to the caller's conditional headers, not a redirect: it passes through.
  if (upstream.status >= 300 && upstream.status < 400 && upstream.status !== 304) {
    await upstream.body?.cancel();
    return errorResponse(502, 'upstream_redirect', 'The vendor answered with a redirect, which is not followed', cors());
  }
  const extra = corsFields(origin, config.allowedOrigins, corsOptions);
  // A linked user's data must not sit in a shared cache, whatever the vendor said.
  if (access === 'session') extra['cache-control'] = 'private, no-store';
  if (upstream.status === 304) await upstream.body?.cancel();
  return new Response(upstream.status === 304 ? null : upstream.body, { status: upstream.status, headers: clientResponseHeaders(upstream.headers, extra) });
}

/**
 * Names the vendor that is not configured (the router lets only letters, digits and dashes through),
 * and the configured one it may have meant: vendor names are lower case.
 */
function unknownVendor(name: string, config: Config): string {
  const lower = name.toLowerCase();
  return config.vendors.has(lower) ? `No vendor named "${name}" is configured; vendor names are lower case: /api/${lower}` : `No vendor named "${name}" is configured`;
}

/** The vendor's fixed upstream plus the checked path: it can only ever point under that base. */
function upstreamUrl(vendor: VendorRuntime, target: { path: string; search: string }): string {
  const url = new URL(vendor.upstream.href + target.path.slice(1) + target.search);
  if (url.origin !== vendor.upstream.origin || !url.pathname.startsWith(vendor.upstream.pathname)) {
    throw new Error('upstream URL escaped its base');
  }
  return url.href;
}

/** 429 while the vendor's own Retry-After runs, with the time left. */
function vendorWaiting(vendor: string, ms: number, headers: Headers): Response {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  headers.set('retry-after', String(seconds));
  return errorResponse(429, 'vendor_rate_limited', `${vendor} asked for no calls for ${seconds} s more`, headers);
}

function tokenFailure(failure: { code: string; message: string; status?: number; retryAfter?: number }, headers: Headers, session: boolean): Response {
  // A linked user can fix a refused refresh token by linking again; the app's own credential needs an operator.
  if (failure.code === 'ERR_LINK_REQUIRED' && session) return errorResponse(401, 'link_required', failure.message, headers);
  if (failure.code === 'ERR_NOT_LINKED') return errorResponse(401, 'not_linked', failure.message, headers);
  if (failure.retryAfter !== undefined) headers.set('retry-after', String(Math.max(1, Math.ceil(failure.retryAfter / 1000))));
  if (failure.code === 'ERR_FRESH_TOKEN_REFUSED') return errorResponse(502, 'fresh_token_refused', failure.message, headers);
  if (failure.code === 'ERR_VENDOR_WAIT') return errorResponse(429, 'vendor_rate_limited', failure.message, headers);
  const status = failure.status === 429 ? 429 : 503;
  return errorResponse(status, 'token_unavailable', failure.message, headers, { reason: failure.code });
}
