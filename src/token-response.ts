import { DEV } from '#dev';
import { ERR_CONTENT_TYPE, ERR_HTML_RESPONSE, ERR_HTTP_STATUS, ERR_INVALID_JSON, ERR_INVALID_RESPONSE, OAuthError, TokenGateError, type OAuthErrorFields } from './errors.js';
import type { Profile } from './profile.js';
import { redact, redactValue } from './redact.js';
import { parseRetryAfter, readJson } from './transport.js';
import type { TokenSet } from './types.js';

/** RFC 6749 Appendix A: tokens are visible ASCII. No blanks or control characters, which would break the Authorization header. */
const TOKEN_VALUE = /^[\x21-\x7e]+$/;
const isToken = (value: unknown): value is string => typeof value === 'string' && TOKEN_VALUE.test(value);
/** About 31 years: a larger `expires_in` is a broken server, not a long-lived token. */
const MAX_EXPIRES_IN = 1_000_000_000;
/** RFC 6749 §5.2: `error` is ASCII without `"` and `\`. */
const ERROR_CODE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,100}$/;

/** What the checks need besides the answer: who asked, what to scrub, the clock. */
export interface ProcessOptions {
  label: string;
  /** Values of this request to scrub from messages (code, verifier, refresh token, ...). */
  secrets: readonly (string | undefined)[];
  /** Receipt time in epoch ms. */
  receivedAt: number;
  /** The refresh token sent, kept when a refresh answer carries none (RFC 6749 §6). */
  previousRefreshToken?: string | undefined;
  /** The scope requested, the granted scope when the answer omits it (RFC 6749 §5.1). */
  requestedScope?: readonly string[] | undefined;
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Checks a token endpoint answer and normalizes it: status, content type, size, JSON, then every
 * field. Errors become {@link OAuthError} when the server sent an OAuth error body, otherwise a
 * {@link TokenGateError} naming what was wrong.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 */
export async function processTokenResponse(profile: Profile, response: Response, options: ProcessOptions): Promise<TokenSet> {
  const secrets = [...profile.secrets, ...options.secrets];
  const body = await readJson(response, { ...options, maxBytes: profile.maxResponseBytes, timeout: options.timeout ?? profile.timeout });
  if (!response.ok) throw errorFromAnswer(profile, response, body, options.label, secrets);
  const value = expectJson(body, response.status, options.label);
  const mapped = profile.mapTokenBody ? profile.mapTokenBody(value) : value;
  // The RFC 6749 §5.1 fields, checked one by one in the order of the RFC; the first missing or invalid
  // one is named. `expires_in` may be a string of digits, as some servers send. Hand-written rather
  // than a schema: this is on every browser's path, and the property tests in
  // test/unit/parsers.property.test.ts hold it to the shape.
  const fields = (typeof mapped === 'object' && mapped !== null ? mapped : {}) as Record<string, unknown>;
  const { access_token, token_type, refresh_token, scope: granted } = fields;
  let { expires_in } = fields;
  if (typeof expires_in === 'string' && /^\d{1,10}$/.test(expires_in)) expires_in = Number(expires_in);
  const invalid = !isToken(access_token)
    ? 'access_token'
    : !isToken(token_type)
      ? 'token_type'
      : expires_in !== undefined && !(typeof expires_in === 'number' && expires_in >= 0 && expires_in <= MAX_EXPIRES_IN)
        ? 'expires_in'
        : refresh_token !== undefined && !isToken(refresh_token)
          ? 'refresh_token'
          : granted !== undefined && typeof granted !== 'string'
            ? 'scope'
            : undefined;
  if (invalid !== undefined) {
    throw new TokenGateError(ERR_INVALID_RESPONSE, DEV ? `The ${options.label} answer has a missing or invalid "${invalid}"` : `${options.label} "${invalid}"`, { status: response.status });
  }
  const lifetime = (expires_in as number | undefined) ?? profile.defaultLifetime;
  const refreshToken = (refresh_token as string | undefined) ?? options.previousRefreshToken;
  const scope =
    granted === undefined
      ? options.requestedScope
      : (granted as string).split(profile.scopeSeparator).map((s) => s.trim()).filter(Boolean);
  const tokens: TokenSet = { accessToken: access_token as string, tokenType: (token_type as string).toLowerCase() === 'bearer' ? 'Bearer' : (token_type as string) };
  // Absent fields stay absent (never `undefined`): a stored set round-trips unchanged.
  if (lifetime !== undefined) tokens.expiresAt = options.receivedAt + lifetime * 1000;
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  if (scope !== undefined) tokens.scope = [...scope];
  return tokens;
}

/** The parsed JSON of a 2xx answer, or the typed error for an HTML page, another type or broken JSON. */
export function expectJson(body: Awaited<ReturnType<typeof readJson>>, status: number, label: string): unknown {
  if (body.kind === 'json') return body.value;
  const other = body.kind === 'other';
  throw new TokenGateError(
    other ? ERR_CONTENT_TYPE : body.kind === 'html' ? ERR_HTML_RESPONSE : ERR_INVALID_JSON,
    DEV
      ? other
        ? `The ${label} answered with Content-Type ${body.contentType} instead of application/json (HTTP ${status})`
        : body.kind === 'html'
          ? `The ${label} answered with an HTML page instead of JSON (HTTP ${status})`
          : `The ${label} answer is not valid JSON; it may be truncated (HTTP ${status})`
      : `${label} ${status}${other ? ` ${body.contentType}` : ''}`,
    { status },
  );
}

/**
 * Turns a non-2xx answer into the most precise error it supports: the profile's vendor mapping, an
 * RFC 6749 §5.2 body (also one sent under a wrong Content-Type such as text/plain), an RFC 9457
 * problem details body, or a plain HTTP status error. Every text the server chose is redacted.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9457#section-3
 */
export function errorFromAnswer(
  profile: Pick<Profile, 'mapErrorBody'>,
  response: Response,
  body: Awaited<ReturnType<typeof readJson>>,
  label: string,
  secrets: readonly (string | undefined)[],
): TokenGateError | OAuthError {
  const status = response.status;
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  // Only a JSON body or an object under another content type carries a value.
  const value = (body as { value?: unknown }).value;
  if (value !== undefined) {
    const fields = profile.mapErrorBody?.(value, status) ?? standardError(value);
    if (fields) {
      // redactValue passes undefined through and redacts a string as redact() does.
      const scrub = (value: unknown) => redactValue(value, secrets) as string | undefined;
      return new OAuthError({
        ...fields,
        // The header's, else what a vendor mapping found in the body.
        retryAfter: retryAfter ?? fields.retryAfter,
        status,
        endpoint: label,
        error: scrub(fields.error)!,
        description: scrub(fields.description),
        uri: scrub(fields.uri),
        details: scrub(fields.details),
      });
    }
  }
  const what = body.kind === 'html' ? (DEV ? ' with an HTML page' : ' html') : '';
  const problem = problemText(value);
  const detail = problem === undefined ? '' : `: ${redact(problem, secrets)}`;
  return new TokenGateError(ERR_HTTP_STATUS, DEV ? `The ${label} answered HTTP ${status}${what}${detail}` : `${label} ${status}${what}${detail}`, { status, retryAfter });
}

/** An RFC 6749 §5.2 body; a problem details `detail` stands in for a missing `error_description`. */
function standardError(value: unknown): OAuthErrorFields | undefined {
  const { error, error_description, error_uri } = (value ?? {}) as Record<string, unknown>;
  const optional = (text: unknown): boolean => text === undefined || typeof text === 'string';
  if (typeof error !== 'string' || !ERROR_CODE.test(error) || !optional(error_description) || !optional(error_uri)) return undefined;
  return { error, description: (error_description as string | undefined) ?? problemText(value), uri: error_uri as string | undefined };
}

/** RFC 9457 §3.1: `title` and `detail` of a problem details object, when it has them. */
function problemText(value: unknown): string | undefined {
  // A primitive has neither field; '' when neither is a non-empty string.
  const { title, detail } = (value ?? {}) as Record<string, unknown>;
  return [title, detail].filter((part) => typeof part === 'string' && part !== '').join(': ') || undefined;
}
