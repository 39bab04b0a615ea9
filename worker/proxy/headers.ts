/**
 * Header fields as a plain record. `fetch` and `Response` take one at once, while filling a `Headers`
 * set by set cost the proxy more CPU than everything else it does per call (measured with
 * bench/edge.mjs under workerd: 0.86x a pass-through's throughput built set by set, 1.01x as a record).
 */
export type HeaderFields = Record<string, string>;

/** The `names` that `from` has. */
function pick(from: Headers, names: readonly string[]): HeaderFields {
  const fields: HeaderFields = {};
  for (const name of names) {
    const value = from.get(name);
    if (value !== null) fields[name] = value;
  }
  return fields;
}

/**
 * Request headers copied from the caller to the vendor; everything else is dropped.
 *
 * In: content negotiation, conditional requests, idempotency and request tracing, which change what
 * the vendor answers but carry no credential of the caller and say nothing about the network path.
 * Out, with why:
 * - `cookie`, `authorization`, `proxy-*`: the caller's credentials are for the Worker, never the vendor
 *   (SECURITY row 11); the vendor gets the Worker's bearer instead.
 * - `forwarded`, `x-forwarded-*`, `x-real-ip`, `cf-*`, `true-client-ip`, `via`: the caller's address
 *   and the edge's internals are no business of the vendor, and some upstreams trust them.
 * - `host`, `content-length`, `transfer-encoding`, `connection`, `te`, `accept-encoding`: the runtime
 *   sets them for the upstream connection; copying them invites request smuggling or wrong lengths.
 * - `origin`, `referer`, `sec-*`, `user-agent`: browser context, checked by the Worker (CORS, CSRF) and
 *   meaningless to the vendor for a server-to-server call.
 */
export const UPSTREAM_REQUEST_HEADERS: readonly string[] = Object.freeze([
  'accept',
  'accept-language',
  'content-type',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'idempotency-key',
  'x-request-id',
]);

/**
 * Response headers copied from the vendor back to the caller; everything else is dropped.
 *
 * Out, with why: `set-cookie` (the vendor's session is not the caller's; SECURITY row 11),
 * `access-control-*` (CORS is the Worker's decision for its own origin list; row 12),
 * `www-authenticate` (it describes the vendor token the Worker sent, not the caller's credentials, and
 * would make a browser prompt or a client retry with the wrong scheme), `location` (redirects are not
 * followed, and the vendor's URL must not steer the browser), `content-length` / `content-encoding` /
 * `transfer-encoding` (the runtime frames the body it sends), `strict-transport-security`,
 * `content-security-policy`, `link`, `server`, `via`, `x-powered-by`, `alt-svc` (about the vendor's host,
 * not the Worker's). `retry-after` stays: a vendor's 429 is passed on with it (row 14).
 */
export const CLIENT_RESPONSE_HEADERS: readonly string[] = Object.freeze([
  'cache-control',
  'content-disposition',
  'content-language',
  'content-type',
  'etag',
  'expires',
  'last-modified',
  'retry-after',
  'x-request-id',
]);

/**
 * RFC 6750 §2.1 b64token, loosened to any visible ASCII: some vendors' tokens are not strictly
 * b64token, and what matters here is that no space, CR, LF or other control can break the header.
 */
const BEARER_VALUE = /^[\u0021-\u007e]+$/;

/**
 * The headers for the upstream request: the caller's allow-listed headers ({@link UPSTREAM_REQUEST_HEADERS})
 * and `authorization: Bearer <token>` (`DPoP <token>` for a DPoP-bound token, RFC 9449 §7.1). Nothing
 * else of the caller's reaches the vendor.
 *
 * @throws {TypeError} when `bearer` is empty or not visible ASCII; the message never contains it.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function upstreamRequestHeaders(incoming: Headers, bearer: string, scheme: 'Bearer' | 'DPoP' = 'Bearer'): HeaderFields {
  if (!BEARER_VALUE.test(bearer)) throw new TypeError('The upstream access token is empty or has characters a header cannot carry');
  return { ...pick(incoming, UPSTREAM_REQUEST_HEADERS), authorization: `${scheme} ${bearer}` };
}

/**
 * The headers for the answer to the caller: the vendor's allow-listed headers ({@link CLIENT_RESPONSE_HEADERS})
 * plus `x-content-type-options: nosniff` and a CSP that lets nothing run. The CSP is ours, not asked
 * by SECURITY.md: the Worker answers on the storefront's own site, so a vendor HTML error page rendered
 * there must not be able to run script or load anything. CORS headers come from the caller in `extra`
 * ({@link corsFields}), never from the vendor; `extra` replaces a vendor header of the same name.
 */
export function clientResponseHeaders(upstream: Headers, extra: HeaderFields = {}): HeaderFields {
  return {
    ...pick(upstream, CLIENT_RESPONSE_HEADERS),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'; sandbox",
    ...extra,
  };
}
