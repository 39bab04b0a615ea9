import { errorResponse } from './responses.js';

/**
 * The most header bytes (names, values and their separators) a request may carry: 64 KiB. The
 * Worker's own headers are small (a cookie header is read up to 8 KiB, http/cookies.ts), but under
 * BASE_PATH it shares the storefront's host and so its cookies; anything far larger than a big cookie
 * jar is either a mistake or someone seeing what the Worker holds in memory and forwards.
 */
export const MAX_HEADER_BYTES = 64 * 1024;

/**
 * Is `value` more than one media type? Two `Content-Type` fields reach a Worker joined by `, `
 * (RFC 9110 §5.3), and `Content-Type` is a singleton field whose value has no bare comma (RFC 9110
 * §8.3: a comma may only stand in a quoted parameter value), so a comma outside quotes means two.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.3
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-8.3
 */
export function isCombinedContentType(value: string): boolean {
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (quoted && char === '\\') i++;
    else if (char === '"') quoted = !quoted;
    else if (char === ',' && !quoted) return true;
  }
  return false;
}

/**
 * The answer for a request whose head the Worker will not take, before any route runs: 431 for
 * headers over {@link MAX_HEADER_BYTES} (RFC 6585 §5), 400 for more than one `Content-Type` (the
 * Worker would otherwise forward the vendor a merged value it never meant, row 17). Undefined to go on.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6585#section-5
 */
export function refuseRequestHead(request: Request): Response | undefined {
  let bytes = 0;
  for (const [name, value] of request.headers) bytes += name.length + value.length + 4;
  if (bytes > MAX_HEADER_BYTES) return errorResponse(431, 'headers_too_large', `Request headers here are limited to ${MAX_HEADER_BYTES} bytes`);
  const type = request.headers.get('content-type');
  if (type !== null && isCombinedContentType(type)) return errorResponse(400, 'invalid_content_type', 'Send one Content-Type');
  return undefined;
}
