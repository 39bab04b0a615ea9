import { DEV } from '#dev';
import { ERR_INVALID_CONFIG, ERR_NO_GRANT, TokenGateError } from './errors.js';
import { scopeList, type Profile, type Scope } from './profile.js';
import { errorFromAnswer, processTokenResponse } from './token-response.js';
import { readJson, send } from './transport.js';
import type { RequestOptions, TokenSet } from './types.js';

/** Parameters whose values are credentials and must never appear in a message. */
const SENSITIVE = ['client_secret', 'client_assertion', 'code', 'code_verifier', 'refresh_token', 'password', 'assertion', 'token'] as const;

/** A request sent by {@link postWithClientAuth}: its answer, and every credential it carried for redaction. */
export interface SentRequest {
  response: Response;
  params: Record<string, string>;
  secrets: (string | undefined)[];
  label: string;
  timeout: number | undefined;
}

/**
 * POSTs parameters with the profile's client authentication (RFC 6749 §2.3; the token, revocation,
 * introspection and PAR endpoints all take it) through the one transport: timeout, signal, no redirects.
 */
export async function postWithClientAuth(
  profile: Profile,
  url: string,
  endpoint: string,
  grantParams: Readonly<Record<string, string>>,
  options: RequestOptions,
): Promise<SentRequest> {
  const json = profile.bodyEncoding === 'json';
  const params: Record<string, string> = { ...grantParams };
  const headers = new Headers({ accept: 'application/json' });
  await profile.clientAuth(params, headers);
  // Exactly this value: Instabox's document names it as the required Content-Type.
  headers.set('content-type', json ? 'application/json' : 'application/x-www-form-urlencoded');
  const body = json ? JSON.stringify(params) : new URLSearchParams(params).toString();
  const label = `${profile.name} ${endpoint} endpoint`;
  const timeout = options.timeout ?? profile.timeout;
  const response = await send(url, { method: 'POST', headers, body }, { label, fetch: options.fetch ?? profile.fetch, signal: options.signal, timeout });
  return { response, params, label, timeout, secrets: [...SENSITIVE.map((name) => params[name]), headers.get('authorization')?.slice(6)] };
}

/**
 * POSTs parameters with the client's authentication to the profile's revocation, introspection or
 * PAR endpoint (in the profile's body encoding: a form for every standard profile), and turns a non-2xx answer into the usual typed, redacted error. The caller reads
 * the 2xx answer.
 */
export async function postToEndpoint(
  profile: Profile,
  endpoint: 'revocation' | 'introspection' | 'par',
  params: Readonly<Record<string, string>>,
  options: RequestOptions,
): Promise<SentRequest> {
  const url = profile[`${endpoint}Url`];
  if (url === undefined) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `The ${profile.name} profile has no ${endpoint} endpoint` : `${profile.name} ${endpoint}`);
  // The endpoint's own client authentication, when its metadata lists methods of its own (RFC 8414 §2).
  const clientAuth = endpoint === 'par' ? undefined : profile.endpointAuth?.[endpoint];
  const sent = await postWithClientAuth(clientAuth ? { ...profile, clientAuth } : profile, url, endpoint, params, options);
  if (!sent.response.ok) {
    const body = await readJson(sent.response, { label: sent.label, maxBytes: profile.maxResponseBytes, timeout: sent.timeout, signal: options.signal });
    throw errorFromAnswer(profile, sent.response, body, sent.label, [...profile.secrets, ...sent.secrets]);
  }
  return sent;
}

/**
 * Sends one token request with the profile's client authentication and body encoding, then checks
 * the answer with {@link processTokenResponse}.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.2
 */
export async function requestToken(
  profile: Profile,
  grantParams: Readonly<Record<string, string>>,
  options: RequestOptions & { previousRefreshToken?: string | undefined } = {},
): Promise<TokenSet> {
  const sent = await postWithClientAuth(profile, profile.tokenUrl, 'token', grantParams, options);
  const requestedScope = sent.params['scope'] ?? sent.params['scopes'];
  // The sent request's label, secrets and timeout take the place of the caller's.
  return processTokenResponse(profile, sent.response, {
    ...options,
    ...sent,
    receivedAt: (options.now ?? Date.now)(),
    requestedScope: requestedScope?.split(profile.scopeSeparator).filter(Boolean),
  });
}

/** Adds `scope` (the caller's, else the profile's unless `own` is false) to a grant's parameters. */
function withScope(params: Record<string, string>, profile: Profile, scope: Scope | undefined, own = true): Record<string, string> {
  const chosen = scopeList(scope, profile.scopeSeparator) ?? (own ? profile.scope : undefined);
  if (chosen?.length) params['scope'] = chosen.join(profile.scopeSeparator);
  return params;
}

/** The options of a grant that asks for a scope: a string or a list; default the profile's scope. */
export type ScopedRequestOptions = RequestOptions & { scope?: Scope };

/**
 * Client credentials grant.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export async function clientCredentialsGrant(profile: Profile, options: ScopedRequestOptions = {}): Promise<TokenSet> {
  return requestToken(profile, withScope({ grant_type: 'client_credentials' }, profile, options.scope), options);
}

/**
 * Resource owner password credentials grant.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.3
 */
export async function passwordGrant(
  profile: Profile,
  credentials: { username: string; password: string },
  options: ScopedRequestOptions = {},
): Promise<TokenSet> {
  const params = withScope({ grant_type: 'password', username: credentials.username, password: credentials.password }, profile, options.scope);
  return requestToken(profile, params, options);
}

/**
 * Refresh token grant. An answer without a new refresh token keeps the one sent (RFC 6749 §6).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export async function refreshTokenGrant(profile: Profile, refreshToken: string, options: ScopedRequestOptions = {}): Promise<TokenSet> {
  if (!refreshToken) throw new TokenGateError(ERR_NO_GRANT, DEV ? `No refresh token to refresh the ${profile.name} token with` : profile.name);
  // RFC 6749 §6: without a scope the refresh keeps the one granted, so the profile's is not added.
  const params = withScope({ grant_type: 'refresh_token', refresh_token: refreshToken }, profile, options.scope, false);
  return requestToken(profile, params, { ...options, previousRefreshToken: refreshToken });
}

/**
 * Authorization code grant with the PKCE verifier.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.5
 */
export function authorizationCodeGrant(
  profile: Profile,
  input: { code: string; codeVerifier: string; redirectUri: string },
  options: RequestOptions = {},
): Promise<TokenSet> {
  return requestToken(
    profile,
    { grant_type: 'authorization_code', code: input.code, code_verifier: input.codeVerifier, redirect_uri: input.redirectUri },
    options,
  );
}

/**
 * The profile's own grant, the one that gets a token from nothing (`client_credentials`, `password`,
 * or `refresh_token` with a long-lived refresh token). A profile without one (a public client) gets
 * its tokens by linking and fails here with `ERR_NO_GRANT`.
 */
export async function profileGrant(profile: Profile, options: RequestOptions = {}): Promise<TokenSet> {
  if (profile.grant === undefined) {
    throw new TokenGateError(ERR_NO_GRANT, DEV ? `The ${profile.name} profile has no grant of its own; link an account and pass its tokens` : profile.name);
  }
  // The grant's own scope as it is; without one, the profile's (withScope's default).
  const params: Record<string, string> = { ...profile.grant };
  if (params['scope'] === undefined) withScope(params, profile, undefined);
  // A long-lived refresh token in the grant (Eshopbox) is the profile's credential: it is not copied
  // into the token set, so stores never hold it; the next renewal uses the grant again.
  return requestToken(profile, params, options);
}
