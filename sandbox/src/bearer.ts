import { json } from './http.js';
import type { RouteContext } from './route.js';
import type { TokenRecord } from './tokens.js';
import type { VendorName } from './types.js';

/** The live access token's record, or the 401 answer to give instead. */
export type BearerResult = { ok: true; record: TokenRecord } | { ok: false; response: Response };

/** RFC 6750 §2.1: `Bearer` then a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Checks `Authorization: Bearer <token>` against the vendor's live access tokens (known, unexpired,
 * unrevoked). Refusals are 401 with `body` in the vendor's dialect and the RFC 6750 §3 challenge:
 * no error code when no token came, `error="invalid_token"` when a bad one did.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export function requireBearer(context: RouteContext, vendor: VendorName, body: unknown): BearerResult {
  const header = context.request.headers.get('authorization');
  if (header === null) {
    return { ok: false, response: json(body, 401, { 'www-authenticate': `Bearer realm="${vendor}"` }) };
  }
  const token = BEARER.exec(header.trim())?.[1];
  const record = token === undefined ? undefined : context.state.tokens.find(token, vendor, 'access', context.state.config.now());
  if (record === undefined) {
    return { ok: false, response: json(body, 401, { 'www-authenticate': 'Bearer error="invalid_token"' }) };
  }
  return { ok: true, record };
}
