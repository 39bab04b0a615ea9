import { json } from './http.js';

/** The RFC 6749 error codes the sandbox uses. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unauthorized';

/**
 * An RFC 6749 §5.2 error answer `{"error","error_description"}`. Descriptions are fixed text: they never
 * carry what the client sent.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export function oauthError(status: number, error: OAuthErrorCode, description: string): Response {
  return json({ error, error_description: description }, status);
}
