import { timingSafeEqual } from 'tokengate';
import { UPSTREAM_REQUEST_HEADERS, type HeaderFields } from './headers.js';

/** The custom header a browser call must carry (SECURITY row 9). A cross-site page cannot add it without a preflight. */
export const CSRF_HEADER = 'x-tokengate-csrf';

/** Request headers a preflight may ask for: what the proxy forwards, plus the CSRF header. */
export const PREFLIGHT_ALLOWED_HEADERS: readonly string[] = Object.freeze([...UPSTREAM_REQUEST_HEADERS, CSRF_HEADER]);

/**
 * Response headers a page's script may read besides the CORS-safelisted ones: it needs `Retry-After`
 * to back off from a 429 (row 14), `ETag` for conditional updates, `X-Request-Id` for support.
 */
export const EXPOSED_RESPONSE_HEADERS: readonly string[] = Object.freeze(['etag', 'retry-after', 'x-request-id', 'content-disposition']);

/** Seconds a browser may cache a preflight answer when nothing else is configured. */
export const DEFAULT_PREFLIGHT_MAX_AGE = 600;

export interface CorsOptions {
  /** Send `Access-Control-Allow-Credentials: true` (cookies); only ever for a listed origin. */
  readonly credentials: boolean;
  readonly methods?: readonly string[];
  readonly allowHeaders?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  /** Seconds; a non-negative integer. */
  readonly maxAge?: number;
}

export interface PreflightOptions {
  /** Default true: the session routes need cookies. */
  readonly credentials?: boolean;
  /** Default {@link PREFLIGHT_ALLOWED_HEADERS}; compared case-insensitively. */
  readonly allowHeaders?: readonly string[];
  /** Default {@link DEFAULT_PREFLIGHT_MAX_AGE}. */
  readonly maxAge?: number;
}

/** Outcome of {@link checkBrowserCsrf}. */
export type CsrfCheck = 'ok' | 'BAD_ORIGIN' | 'MISSING_HEADER';

/**
 * True only for an origin that is, character for character, in the list. `null` (sandboxed iframes,
 * `file:`, some redirects) is never listed, even if the configuration says `"null"`; `*` can never match
 * because browsers never send it.
 */
export function isListedOrigin(origin: string | null, allowedOrigins: readonly string[]): origin is string {
  return origin !== null && origin !== 'null' && origin !== '*' && allowedOrigins.includes(origin);
}

function checkMaxAge(maxAge: number): string {
  if (!Number.isSafeInteger(maxAge) || maxAge < 0) throw new RangeError('CORS maxAge must be a non-negative integer number of seconds');
  return String(maxAge);
}

/**
 * The CORS headers for an answer to `origin`. `Vary: Origin` is always there, so a shared cache never
 * serves one origin's answer to another. `Access-Control-Allow-Origin` is the caller's origin only when
 * it is listed (never `*`, never an unlisted origin reflected), and the other `Access-Control-*`
 * headers, credentials included, come only with it.
 *
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 */
export function corsHeaders(origin: string | null, allowedOrigins: readonly string[], options: CorsOptions): Headers {
  return new Headers(corsFields(origin, allowedOrigins, options));
}

/** {@link corsHeaders} as a plain record, for the proxy's answers (see {@link HeaderFields}). */
export function corsFields(origin: string | null, allowedOrigins: readonly string[], options: CorsOptions): HeaderFields {
  const fields: HeaderFields = { vary: 'Origin' };
  if (!isListedOrigin(origin, allowedOrigins)) return fields;
  fields['access-control-allow-origin'] = origin;
  if (options.credentials) fields['access-control-allow-credentials'] = 'true';
  const list = (name: string, values: readonly string[] | undefined): void => {
    if (values !== undefined && values.length > 0) fields[name] = values.join(', ');
  };
  list('access-control-allow-methods', options.methods);
  list('access-control-allow-headers', options.allowHeaders);
  list('access-control-expose-headers', options.exposeHeaders);
  if (options.maxAge !== undefined) fields['access-control-max-age'] = checkMaxAge(options.maxAge);
  return fields;
}

/**
 * The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`): 204 with the CORS
 * headers when the origin is listed, the requested method is one of `routesAllowedMethods` (what the
 * allowlist has for the path; `[]` when the path is unknown) and every requested header is allowed;
 * otherwise 403 with only `Vary`. Never calls the vendor.
 *
 * @see https://fetch.spec.whatwg.org/#cors-preflight-fetch
 */
export function preflight(
  request: Request,
  allowedOrigins: readonly string[],
  routesAllowedMethods: readonly string[],
  options: PreflightOptions = {},
): Response {
  const vary = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';
  const refuse = (): Response => new Response(null, { status: 403, headers: { vary, 'cache-control': 'no-store' } });
  const origin = request.headers.get('origin');
  const method = request.headers.get('access-control-request-method');
  if (request.method !== 'OPTIONS' || method === null || !isListedOrigin(origin, allowedOrigins)) return refuse();
  if (!routesAllowedMethods.includes(method)) return refuse();

  const allowHeaders = options.allowHeaders ?? PREFLIGHT_ALLOWED_HEADERS;
  const allowed = new Set(allowHeaders.map((name) => name.toLowerCase()));
  const requested = (request.headers.get('access-control-request-headers') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (!requested.every((name) => allowed.has(name))) return refuse();

  const headers = corsHeaders(origin, allowedOrigins, {
    credentials: options.credentials ?? true,
    methods: routesAllowedMethods,
    allowHeaders,
    maxAge: options.maxAge ?? DEFAULT_PREFLIGHT_MAX_AGE,
  });
  headers.set('vary', vary);
  return new Response(null, { status: 204, headers });
}

/**
 * The CSRF check for API calls (SECURITY row 9). A browser call is any request that carries a Cookie
 * or an Origin; it needs both an exactly listed Origin and the custom header `headerName` with the value
 * `1`. A request with neither Cookie nor Origin is a server-to-server caller with no ambient
 * credentials to abuse, and passes (its own credential, an API key, is checked elsewhere).
 *
 * One addition to row 9: browsers send no Origin on same-origin GET/HEAD, so a cookie-bearing request
 * without Origin passes the origin half only when the browser itself marks it `Sec-Fetch-Site:
 * same-origin` (a forbidden header: no page can set it, and a non-browser that forges it has no
 * victim's cookie). That lets the SPA the Worker serves read with its session cookie; it still needs
 * the custom header, and same-origin POSTs (which do carry Origin) need the Worker's origin listed.
 * Browsers without Fetch Metadata fail closed.
 *
 * The header value goes through `timingSafeEqual` (row 15), like every credential-like comparison.
 */
export function checkBrowserCsrf(request: Request, allowedOrigins: readonly string[], headerName: string = CSRF_HEADER): CsrfCheck {
  const origin = request.headers.get('origin');
  const hasCookie = request.headers.has('cookie');
  if (origin === null && !hasCookie) return 'ok';
  if (origin === null) {
    if (request.headers.get('sec-fetch-site') !== 'same-origin') return 'BAD_ORIGIN';
  } else if (!isListedOrigin(origin, allowedOrigins)) {
    return 'BAD_ORIGIN';
  }
  const value = request.headers.get(headerName);
  return value !== null && timingSafeEqual(value, '1') ? 'ok' : 'MISSING_HEADER';
}
