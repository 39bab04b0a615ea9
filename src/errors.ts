import { DEV } from '#dev';

// Each code is also its own constant, for tokengate's modules: a bundle then keeps only the codes its
// code paths can throw, where a reference to `ErrorCode` would keep the whole object.
export const ERR_NETWORK: 'ERR_NETWORK' = 'ERR_NETWORK';
export const ERR_TIMEOUT: 'ERR_TIMEOUT' = 'ERR_TIMEOUT';
export const ERR_ABORTED: 'ERR_ABORTED' = 'ERR_ABORTED';
export const ERR_HTTP_STATUS: 'ERR_HTTP_STATUS' = 'ERR_HTTP_STATUS';
export const ERR_UNEXPECTED_REDIRECT: 'ERR_UNEXPECTED_REDIRECT' = 'ERR_UNEXPECTED_REDIRECT';
export const ERR_HTML_RESPONSE: 'ERR_HTML_RESPONSE' = 'ERR_HTML_RESPONSE';
export const ERR_CONTENT_TYPE: 'ERR_CONTENT_TYPE' = 'ERR_CONTENT_TYPE';
export const ERR_INVALID_JSON: 'ERR_INVALID_JSON' = 'ERR_INVALID_JSON';
export const ERR_BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE' = 'ERR_BODY_TOO_LARGE';
export const ERR_INVALID_RESPONSE: 'ERR_INVALID_RESPONSE' = 'ERR_INVALID_RESPONSE';
export const ERR_STATE_MISSING: 'ERR_STATE_MISSING' = 'ERR_STATE_MISSING';
export const ERR_STATE_MISMATCH: 'ERR_STATE_MISMATCH' = 'ERR_STATE_MISMATCH';
export const ERR_ISSUER_MISMATCH: 'ERR_ISSUER_MISMATCH' = 'ERR_ISSUER_MISMATCH';
export const ERR_ISSUER_MISSING: 'ERR_ISSUER_MISSING' = 'ERR_ISSUER_MISSING';
export const ERR_ISSUER_UNKNOWN: 'ERR_ISSUER_UNKNOWN' = 'ERR_ISSUER_UNKNOWN';
export const ERR_CODE_MISSING: 'ERR_CODE_MISSING' = 'ERR_CODE_MISSING';
export const ERR_REDIRECT_URI_MISMATCH: 'ERR_REDIRECT_URI_MISMATCH' = 'ERR_REDIRECT_URI_MISMATCH';
export const ERR_INVALID_CONFIG: 'ERR_INVALID_CONFIG' = 'ERR_INVALID_CONFIG';
export const ERR_INVALID_METADATA: 'ERR_INVALID_METADATA' = 'ERR_INVALID_METADATA';
export const ERR_INVALID_VERIFIER: 'ERR_INVALID_VERIFIER' = 'ERR_INVALID_VERIFIER';
export const ERR_LINK_REQUIRED: 'ERR_LINK_REQUIRED' = 'ERR_LINK_REQUIRED';
export const ERR_NO_GRANT: 'ERR_NO_GRANT' = 'ERR_NO_GRANT';
export const ERR_UNSUPPORTED_TOKEN_TYPE: 'ERR_UNSUPPORTED_TOKEN_TYPE' = 'ERR_UNSUPPORTED_TOKEN_TYPE';

/**
 * Stable error codes carried by {@link TokenGateError.code}. Compare against these constants, never
 * against messages: messages are for people and may change.
 */
export const ErrorCode = {
  /** The request never got an answer: DNS, connection refused, reset, CORS. */
  NETWORK: 'ERR_NETWORK',
  /** The request took longer than its timeout. */
  TIMEOUT: 'ERR_TIMEOUT',
  /** The caller's AbortSignal aborted the request. */
  ABORTED: 'ERR_ABORTED',
  /** A non-2xx answer that carried no recognisable OAuth error body. */
  HTTP_STATUS: 'ERR_HTTP_STATUS',
  /** The endpoint answered with a redirect; token and metadata endpoints must not redirect. */
  UNEXPECTED_REDIRECT: 'ERR_UNEXPECTED_REDIRECT',
  /** An HTML page (typically a login or error page) where JSON was expected. */
  HTML_RESPONSE: 'ERR_HTML_RESPONSE',
  /** The answer's Content-Type is not JSON. */
  CONTENT_TYPE: 'ERR_CONTENT_TYPE',
  /** The answer claims to be JSON but does not parse (truncated, malformed). */
  INVALID_JSON: 'ERR_INVALID_JSON',
  /** The answer is larger than the configured cap. */
  BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  /** The answer parsed but does not have the required shape (missing access_token, ...). */
  INVALID_RESPONSE: 'ERR_INVALID_RESPONSE',
  /** The callback URL has no `state`. */
  STATE_MISSING: 'ERR_STATE_MISSING',
  /** The callback's `state` is not the transaction's. */
  STATE_MISMATCH: 'ERR_STATE_MISMATCH',
  /** The callback's `iss` is not the expected issuer (RFC 9207). */
  ISSUER_MISMATCH: 'ERR_ISSUER_MISMATCH',
  /** The server advertises RFC 9207 but the callback has no `iss`. */
  ISSUER_MISSING: 'ERR_ISSUER_MISSING',
  /** The callback carries `iss` but the profile names no issuer to check it against: configure `issuer`. */
  ISSUER_UNKNOWN: 'ERR_ISSUER_UNKNOWN',
  /** The callback has neither `code` nor `error`. */
  CODE_MISSING: 'ERR_CODE_MISSING',
  /** The callback URL is not the transaction's redirect URI. */
  REDIRECT_URI_MISMATCH: 'ERR_REDIRECT_URI_MISMATCH',
  /** A profile or option is malformed (bad URL, missing credential, unsupported method). */
  INVALID_CONFIG: 'ERR_INVALID_CONFIG',
  /** Authorization server metadata (RFC 8414) is missing, malformed or inconsistent. */
  INVALID_METADATA: 'ERR_INVALID_METADATA',
  /** A PKCE verifier that RFC 7636 §4.1 does not allow. */
  INVALID_VERIFIER: 'ERR_INVALID_VERIFIER',
  /** The refresh token was refused (`invalid_grant`, or 400 / 401 without an OAuth error body): the user must link the account again. */
  LINK_REQUIRED: 'ERR_LINK_REQUIRED',
  /** No way to get a token: no grant configured and no refresh token held. */
  NO_GRANT: 'ERR_NO_GRANT',
  /** The token's `token_type` is not Bearer (DPoP, or unknown): it cannot be sent as `Authorization: Bearer`. */
  UNSUPPORTED_TOKEN_TYPE: 'ERR_UNSUPPORTED_TOKEN_TYPE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The code of an {@link OAuthError}: the server's own (RFC 6749 §5.2 and §4.1.2.1 list these, vendors
 * add more), so any string; the registered ones are spelled out for editors.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | (string & {});

const BRAND: unique symbol = Symbol.for('tokengate.error');
const OAUTH_BRAND: unique symbol = Symbol.for('tokengate.oauth-error');

export interface TokenGateErrorOptions {
  /** HTTP status of the answer that caused the error, when there was one. */
  status?: number | undefined;
  /** The underlying error or parsed body; never holds credentials. */
  cause?: unknown;
  /** For rate limits: milliseconds to wait, from the server's Retry-After. */
  retryAfter?: number | undefined;
}

/**
 * The one base class of every error tokengate throws. `code` is stable: one of {@link ErrorCode} or,
 * for {@link OAuthError}, the server's OAuth error code. `Code` narrows it: tokengate's own errors are
 * `TokenGateError<ErrorCode>`; the default stays open because apps subclass with codes of their own. Messages never contain a secret, token,
 * authorization code or PKCE verifier.
 */
export class TokenGateError<Code extends string = ErrorCode | OAuthErrorCode> extends Error {
  override name: string = 'TokenGateError';
  // `declare`: assigned in the constructor, so no field initializers are emitted as well.
  declare readonly code: Code;
  declare readonly status: number | undefined;
  declare readonly retryAfter: number | undefined;

  /**
   * `message`: in development builds (the `development` or `workerd` condition of `#dev`) the English
   * sentence, in production builds only the facts that vary (endpoint, field, status), which follow the
   * code: `ERR_INVALID_RESPONSE oauth2 token endpoint "expires_in"`.
   */
  constructor(code: Code, message: string, options: TokenGateErrorOptions = {}) {
    super(DEV ? message : `${code} ${message}`.trim(), options);
    this.code = code;
    this.status = options.status;
    this.retryAfter = options.retryAfter;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

export interface OAuthErrorFields {
  /** The OAuth error code (`invalid_grant`, `invalid_client`, `access_denied`, ...). */
  error: string;
  /** `error_description`, with every credential of the request redacted. */
  description?: string | undefined;
  /** `error_uri`. */
  uri?: string | undefined;
  status?: number | undefined;
  retryAfter?: number | undefined;
  /** Which endpoint answered, for the message (`instacart token endpoint`). Default: the authorization server. */
  endpoint?: string | undefined;
  /** Vendor-specific structured details (e.g. Instacart `errors[].meta`), already redacted. */
  details?: unknown;
}

/**
 * An OAuth error answer (RFC 6749 §4.1.2.1, §5.2) or a vendor error mapped to one. `code` is the
 * server's error code, e.g. `invalid_grant`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export class OAuthError extends TokenGateError<OAuthErrorCode> {
  override name: string = 'OAuthError';
  declare readonly description: string | undefined;
  declare readonly uri: string | undefined;
  declare readonly details: unknown;

  constructor(fields: OAuthErrorFields) {
    const where = fields.status === undefined ? (fields.endpoint ?? 'authorization server') : `${fields.endpoint ?? 'token endpoint'} (HTTP ${fields.status})`;
    const description = fields.description === undefined ? '' : `: ${fields.description}`;
    // The fields carry status and retryAfter, and no cause: the server's body stays out of the error.
    super(fields.error, DEV ? `The ${where} answered ${fields.error}${description}` : where + description, { status: fields.status, retryAfter: fields.retryAfter });
    this.description = fields.description;
    this.uri = fields.uri;
    this.details = fields.details;
    Object.defineProperty(this, OAUTH_BRAND, { value: true });
  }
}

/**
 * True for any tokengate error, also one made in another realm (iframe, worker, duplicated bundle).
 * Its `code` is an {@link ErrorCode}, or the server's code for an {@link OAuthError} (tell them apart
 * with {@link isOAuthError}).
 */
export function isTokenGateError(value: unknown): value is TokenGateError {
  // Optional chaining covers null and undefined; a primitive has no brand.
  return (value as Record<symbol, unknown> | null | undefined)?.[BRAND] === true;
}

/** True for an {@link OAuthError}, also across realms. */
export function isOAuthError(value: unknown): value is OAuthError {
  return isTokenGateError(value) && (value as unknown as Record<symbol, unknown>)[OAUTH_BRAND] === true;
}
