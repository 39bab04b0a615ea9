import { requireBearer } from './bearer.js';
import { json } from './http.js';
import type { RouteContext } from './route.js';
import type { TokenRecord } from './tokens.js';

/** One Instacart Connect error (Instacart doc 004's table: message, code, meta). */
export interface InstacartError {
  readonly message: string;
  readonly code: number;
  readonly meta?: { readonly key: string };
}

/** Instacart doc 004: 1001 with `meta.key` naming the bad field ("Invalid user_id", {"key":"user_id"}). */
export const INVALID_PARAMETER = 1001;
/**
 * The doc lists no code for a refused token; 1000 is the sandbox's own pick, kept apart from 1001 so a
 * client cannot mistake a token problem for a validation one.
 */
export const UNAUTHORIZED = 1000;

/** The error for a missing or bad field, in doc 004's wording; never carries the value sent. */
export function invalidParameter(key: string): InstacartError {
  return { message: `Invalid ${key}`, code: INVALID_PARAMETER, meta: { key } };
}

/**
 * Instacart doc 004: "Error responses return either a single error or multiple errors":
 * one as `{"error":{...}}`, several as `{"errors":[{...},{...}]}`, items of the same shape.
 */
export function instacartErrors(status: number, errors: readonly [InstacartError, ...InstacartError[]]): Response {
  return errors.length === 1 ? json({ error: errors[0] }, status) : json({ errors }, status);
}

/** The token's record, or the 401/403 answer to give instead. */
export type InstacartAuth = { ok: true; record: TokenRecord } | { ok: false; response: Response };

/**
 * Checks the bearer for an Instacart API call. `subject`: the kind of token the endpoint needs (the
 * fulfillment sandbox takes the app's client_credentials token, `users/self` a linked user's token);
 * the wrong kind is 403 `insufficient_scope` (RFC 6750 §3.1), not 401, since refreshing will not help.
 */
export function requireInstacartToken(context: RouteContext, subject?: TokenRecord['subject']): InstacartAuth {
  const auth = requireBearer(context, 'instacart', { error: { message: 'Unauthorized', code: UNAUTHORIZED } });
  if (!auth.ok || subject === undefined || auth.record.subject === subject) return auth;
  const message = subject === 'user' ? 'A user access token is required' : 'An application access token is required';
  return {
    ok: false,
    response: json({ error: { message, code: UNAUTHORIZED } }, 403, { 'www-authenticate': 'Bearer error="insufficient_scope"' }),
  };
}
