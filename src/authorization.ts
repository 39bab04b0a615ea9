import { DEV } from '#dev';
import { timingSafeEqual } from './encoding.js';
import { ERR_CODE_MISSING, ERR_INVALID_CONFIG, ERR_ISSUER_MISMATCH, ERR_ISSUER_MISSING, ERR_ISSUER_UNKNOWN, ERR_REDIRECT_URI_MISMATCH, ERR_STATE_MISMATCH, ERR_STATE_MISSING, OAuthError, TokenGateError } from './errors.js';
import { authorizationCodeGrant } from './grants.js';
import { createPkce, createState } from './pkce.js';
import { absoluteUrl, scopeList, type Profile, type Scope } from './profile.js';
import { redact, redactValue } from './redact.js';
import type { FetchLike, RequestOptions, TokenSet } from './types.js';

/**
 * What the app keeps across the redirect (in IndexedDB, a cookie-bound server record, ...). It holds
 * the verifier: never put it in a URL, a log or storage other pages can read.
 */
export interface AuthorizationTransaction {
  /** Where to send the user. */
  url: string;
  state: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface StartAuthorizationOptions {
  /** Configured, never taken from the incoming request (RFC 9700 §4.1). */
  redirectUri: string;
  /** A string of scopes or a list; defaults to the profile's scope. */
  scope?: Scope;
  /** More query parameters (`prompt`, `login_hint`, `resource`, ...); cannot override the protocol ones. */
  extraParams?: Readonly<Record<string, string>>;
  /**
   * Push the request to the profile's PAR endpoint (RFC 9126, see `withPar`; `discover()` sets it up)
   * and send the browser only `client_id` and `request_uri`. Default: when the profile requires it
   * (`withPar(profile, { url, required: true })`, or the server's `require_pushed_authorization_requests`);
   * `false` for such a profile is `ERR_INVALID_CONFIG`, before anything is sent.
   */
  par?: boolean;
  /** For the PAR request. */
  signal?: AbortSignal;
  fetch?: FetchLike;
  timeout?: number;
}

/**
 * Starts an authorization code flow with PKCE S256: makes the verifier and state and builds the
 * authorization URL.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.3
 */
export async function startAuthorization(profile: Profile, options: StartAuthorizationOptions): Promise<AuthorizationTransaction> {
  if (!profile.authorizeUrl) {
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `The ${profile.name} profile has no authorizeUrl` : `${profile.name} authorizeUrl`);
  }
  const redirectUri = checkRedirectUri(options.redirectUri);
  const { verifier, challenge, method } = await createPkce();
  const state = createState();
  const url = new URL(profile.authorizeUrl);
  const query = url.searchParams;
  const scope = scopeList(options.scope, profile.scopeSeparator) ?? profile.scope;
  // The protocol's own parameters; `extraParams` cannot override any of them.
  const protocol: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: profile.clientId,
    redirect_uri: redirectUri,
    scope: scope?.join(profile.scopeSeparator) || undefined,
    state,
    code_challenge: challenge,
    code_challenge_method: method,
  };
  // The extra parameters first, then the protocol's, which win any collision (the spread keeps an
  // extra's place but takes the protocol's value, and an unset protocol value is not sent).
  for (const [key, value] of Object.entries({ ...options.extraParams, ...protocol })) if (value !== undefined) query.set(key, value);
  // A profile with a PAR endpoint decides there whether to push (`withPar`): `par: false` where the
  // server requires pushing is a configuration error, found before anything is sent.
  const push = profile.pushAuthorization;
  if (!push && (options.par ?? profile.requirePar)) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `The ${profile.name} profile has no par endpoint` : `${profile.name} par`);
  return { url: push ? await push(profile, url, options) : url.href, state, codeVerifier: verifier, redirectUri };
}

function checkRedirectUri(value: string): string {
  const url = absoluteUrl(value, ERR_INVALID_CONFIG, DEV ? 'redirectUri is not an absolute URL' : 'redirectUri');
  if (url.hash) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'redirectUri must not contain a fragment (RFC 6749 §3.1.2)' : 'redirectUri #');
  return value;
}

/**
 * Checks the callback and exchanges the code. In order: the callback is the transaction's redirect
 * URI; `state` is present and equal (compared in constant time); `iss` equals the profile's issuer
 * when sent, and is present when the server advertises it (RFC 9207); an `error` answer becomes an
 * {@link OAuthError}; then code and verifier go to the token endpoint. Nothing is sent on any failure.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
 */
export async function completeAuthorization(
  profile: Profile,
  transaction: Pick<AuthorizationTransaction, 'state' | 'codeVerifier' | 'redirectUri'>,
  callbackUrl: string | URL,
  options: RequestOptions = {},
): Promise<TokenSet> {
  const code = checkCallback(profile, transaction, callbackUrl);
  return authorizationCodeGrant(profile, { code, codeVerifier: transaction.codeVerifier, redirectUri: transaction.redirectUri }, options);
}

/**
 * The checks of {@link completeAuthorization} without the exchange: returns the authorization code.
 * For servers (the Worker) that exchange on their own.
 */
export function checkCallback(
  profile: Pick<Profile, 'name' | 'issuer' | 'requireIss'>,
  transaction: Pick<AuthorizationTransaction, 'state' | 'redirectUri'>,
  callbackUrl: string | URL,
): string {
  const url = absoluteUrl(callbackUrl, ERR_REDIRECT_URI_MISMATCH, DEV ? 'The callback URL is not an absolute URL' : 'callback URL');
  const expected = new URL(transaction.redirectUri);
  if (url.origin !== expected.origin || url.pathname !== expected.pathname) {
    throw new TokenGateError(ERR_REDIRECT_URI_MISMATCH, DEV ? 'The callback URL is not the redirect URI this authorization started with' : '');
  }
  const params = url.searchParams;
  const state = params.get('state');
  if (!state) throw new TokenGateError(ERR_STATE_MISSING, DEV ? 'The callback has no state parameter' : '');
  if (!timingSafeEqual(state, transaction.state)) {
    throw new TokenGateError(ERR_STATE_MISMATCH, DEV ? 'The callback state does not match this authorization; it may be forged or from another tab' : '');
  }
  const iss = params.get('iss');
  if (iss !== null) {
    // Not a mismatch but a missing configuration: without an issuer the mix-up check cannot be made.
    if (profile.issuer === undefined) {
      throw new TokenGateError(ERR_ISSUER_UNKNOWN, DEV ? `The callback carries iss but the ${profile.name} profile names no issuer to check it against; configure issuer (or use discover())` : profile.name);
    }
    if (iss !== profile.issuer) {
      throw new TokenGateError(ERR_ISSUER_MISMATCH, DEV ? `The callback iss is not the ${profile.name} issuer; the code may come from another server (mix-up)` : profile.name);
    }
  } else if (profile.requireIss) {
    throw new TokenGateError(ERR_ISSUER_MISSING, DEV ? `The ${profile.name} server sends iss on every callback, but this callback has none` : profile.name);
  }
  // '' when absent: redact() skips an empty secret, and '' is refused below like a missing code.
  const code = params.get('code') ?? '';
  const error = params.get('error');
  if (error !== null) {
    throw new OAuthError({
      error: redact(error, [code]),
      // redactValue passes undefined through and redacts a string as redact() does.
      description: redactValue(params.get('error_description') ?? undefined, [code]) as string | undefined,
      uri: params.get('error_uri') ?? undefined,
    });
  }
  if (code === '') throw new TokenGateError(ERR_CODE_MISSING, DEV ? 'The callback has neither a code nor an error' : '');
  return code;
}

