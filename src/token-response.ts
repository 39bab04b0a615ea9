import * as v from 'valibot';
import { ERR_CONTENT_TYPE, ERR_HTML_RESPONSE, ERR_HTTP_STATUS, ERR_INVALID_JSON, ERR_INVALID_RESPONSE, OAuthError, TokenGateError, type ErrorCode, type OAuthErrorFields } from './errors.js';
import type { Profile } from './profile.js';
import { redact, redactValue } from './redact.js';
import { parseRetryAfter, readJson } from './transport.js';
import type { TokenSet } from './types.js';

/** RFC 6749 Appendix A: tokens are visible ASCII. No blanks or control characters, which would break the Authorization header. */
const tokenValue = v.pipe(v.string(), v.regex(/^[\x21-\x7e]+$/));
/** About 31 years: a larger `expires_in` is a broken server, not a long-lived token. */
const MAX_EXPIRES_IN = 1_000_000_000;

/**
 * RFC 6749 §5.1 success body, with `expires_in` also accepted as a string of digits. The schema uses
 * few distinct valibot actions on purpose: each one adds its code to every browser bundle.
 */
const TokenBody = v.looseObject({
  access_token: tokenValue,
  // RFC 6749 §7.1 names token types like `Bearer`: visible ASCII as well.
  token_type: tokenValue,
  expires_in: v.optional(
    v.pipe(
      v.custom<number | string>((value) => typeof value === 'number' || (typeof value === 'string' && /^\d{1,10}$/.test(value))),
      v.transform(Number),
      v.check((seconds) => seconds >= 0 && seconds <= MAX_EXPIRES_IN),
    ),
  ),
  refresh_token: v.optional(tokenValue),
  scope: v.optional(v.string()),
});

/** RFC 6749 §5.2: `error` is ASCII without `"` and `\`. */
const ErrorBody = v.looseObject({
  error: v.pipe(v.string(), v.regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,100}$/)),
  error_description: v.optional(v.string()),
  error_uri: v.optional(v.string()),
});

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
  const body = await readJson(response, {
    label: options.label,
    maxBytes: profile.maxResponseBytes,
    timeout: options.timeout ?? profile.timeout,
    signal: options.signal,
  });
  if (!response.ok) throw errorFromAnswer(profile, response, body, options.label, secrets);
  const value = expectJson(body, response.status, options.label);
  const mapped = profile.mapTokenBody ? profile.mapTokenBody(value) : value;
  const parsed = v.safeParse(TokenBody, mapped);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = issue ? v.getDotPath(issue) ?? 'body' : 'body';
    throw new TokenGateError(ERR_INVALID_RESPONSE, `The ${options.label} answer has a missing or invalid "${field}"`, { status: response.status });
  }
  const fields = parsed.output;
  const lifetime = fields.expires_in ?? profile.defaultLifetime;
  const refreshToken = fields.refresh_token ?? options.previousRefreshToken;
  const scope =
    fields.scope === undefined
      ? options.requestedScope
      : fields.scope.split(profile.scopeSeparator).map((s) => s.trim()).filter(Boolean);
  return {
    accessToken: fields.access_token,
    tokenType: fields.token_type.toLowerCase() === 'bearer' ? 'Bearer' : fields.token_type,
    ...(lifetime === undefined ? {} : { expiresAt: options.receivedAt + lifetime * 1000 }),
    ...(refreshToken === undefined ? {} : { refreshToken }),
    ...(scope === undefined ? {} : { scope: [...scope] }),
  };
}

/** The parsed JSON of a 2xx answer, or the typed error for an HTML page, another type or broken JSON. */
export function expectJson(body: Awaited<ReturnType<typeof readJson>>, status: number, label: string): unknown {
  switch (body.kind) {
    case 'json':
      return body.value;
    case 'html':
      return failure(ERR_HTML_RESPONSE, `The ${label} answered with an HTML page instead of JSON (HTTP ${status})`, status);
    case 'other':
      return failure(ERR_CONTENT_TYPE, `The ${label} answered with Content-Type ${body.contentType} instead of application/json (HTTP ${status})`, status);
    case 'invalid':
      return failure(ERR_INVALID_JSON, `The ${label} answer is not valid JSON; it may be truncated (HTTP ${status})`, status);
  }
}

function failure(code: ErrorCode, message: string, status: number): never {
  throw new TokenGateError(code, message, { status });
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
  const extra = retryAfter === undefined ? {} : { retryAfter };
  const value = body.kind === 'json' || body.kind === 'other' ? body.value : undefined;
  if (value !== undefined) {
    const fields = profile.mapErrorBody?.(value, status) ?? standardError(value);
    if (fields) {
      return new OAuthError({
        ...fields,
        ...extra,
        status,
        endpoint: label,
        error: redact(fields.error, secrets),
        description: fields.description === undefined ? undefined : redact(fields.description, secrets),
        uri: fields.uri === undefined ? undefined : redact(fields.uri, secrets),
        details: fields.details === undefined ? undefined : redactValue(fields.details, secrets),
      });
    }
  }
  const what = body.kind === 'html' ? ' with an HTML page' : '';
  const problem = problemText(value);
  const detail = problem === undefined ? '' : `: ${redact(problem, secrets)}`;
  return new TokenGateError(ERR_HTTP_STATUS, `The ${label} answered HTTP ${status}${what}${detail}`, { status, ...extra });
}

/** An RFC 6749 §5.2 body; a problem details `detail` stands in for a missing `error_description`. */
function standardError(value: unknown): OAuthErrorFields | undefined {
  const parsed = v.safeParse(ErrorBody, value);
  if (!parsed.success) return undefined;
  const { error, error_description, error_uri } = parsed.output;
  return { error, description: error_description ?? problemText(value), uri: error_uri };
}

/** RFC 9457 §3.1: `title` and `detail` of a problem details object, when it has them. */
function problemText(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { title, detail } = value as Record<string, unknown>;
  const parts = [title, detail].filter((part): part is string => typeof part === 'string' && part !== '');
  return parts.length === 0 ? undefined : parts.join(': ');
}
