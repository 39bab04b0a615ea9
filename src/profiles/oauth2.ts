import { DEV } from '#dev';
import type { ClientKey } from '../client-assertion.js';
import { clientSecretBasic, clientSecretBasicPlain, clientSecretPost, noClientAuth, type ClientAuthMethod } from '../client-auth.js';
import { ERR_INVALID_CONFIG, TokenGateError } from '../errors.js';
import { checkEndpoint, requireKey, requireString, scopeList, type Profile, type Scope } from '../profile.js';
import type { FetchLike } from '../types.js';

/** Options shared by every profile factory: transport and endpoint overrides. */
export interface CommonProfileOptions {
  fetch?: FetchLike;
  /** Milliseconds per request. Default 10 000. */
  timeout?: number;
  /** Largest answer body read. Default 256 KiB. */
  maxResponseBytes?: number;
}

export interface OAuth2Options extends CommonProfileOptions {
  tokenUrl: string;
  authorizeUrl?: string;
  apiBaseUrl?: string;
  /** The issuer identifier; enables the RFC 9207 `iss` check. */
  issuer?: string;
  /** The server always sends `iss` (metadata `authorization_response_iss_parameter_supported`). */
  requireIss?: boolean;
  /** RFC 7009 revocation endpoint, for `revokeToken`. */
  revocationUrl?: string;
  /** RFC 7662 introspection endpoint, for `introspectToken`. */
  introspectionUrl?: string;
  clientId: string;
  clientSecret?: string;
  /**
   * The JWT signing key of `private_key_jwt` (or, from `importClientKey({ secret })`, `client_secret_jwt`):
   * `auth` then defaults to the key's method. `auth: 'private_key_jwt'` without one is refused.
   */
  clientKey?: ClientKey;
  /** The `aud` of client assertions: the token endpoint URL (OpenID Connect Core §9, default) or the issuer. */
  assertionAudience?: 'token_endpoint' | 'issuer';
  /**
   * Default: `client_secret_basic` when a secret is given, `none` otherwise. `client_secret_basic_plain`
   * is Basic without RFC 6749 §2.3.1's form-encoding of id and secret, for servers that do not decode
   * it (@node-oauth/oauth2-server, and vendors who document the header built by hand).
   */
  auth?: OAuth2Auth;
  /** A space-separated string or a list. */
  scope?: Scope;
  /**
   * The grant that gets a token from nothing. Default: `client_credentials` for a confidential client,
   * none for a public one (it gets tokens by linking and keeps them by refreshing).
   */
  grant?: 'client_credentials' | 'none' | PasswordGrant | Readonly<Record<string, string>>;
  /** Lifetime in seconds assumed when an answer lacks `expires_in`. Default: unknown. */
  defaultLifetime?: number;
  /** Minimum milliseconds between token requests. */
  minInterval?: number;
  /** Profile name used in errors and store keys. Default `oauth2`. */
  name?: string;
}

/** How `oauth2()` authenticates the client: the registered names, plus Basic without form-encoding. */
export type OAuth2Auth = ClientAuthMethod | 'client_secret_basic_plain';

/**
 * The resource owner password grant as the profile's own grant (RFC 6749 §4.3); the password is
 * scrubbed from every error like a secret.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.3
 */
export interface PasswordGrant {
  type: 'password';
  username: string;
  password: string;
}

const AUTH: Readonly<Record<Exclude<OAuth2Auth, ClientKey['method']>, typeof clientSecretBasic>> = {
  none: noClientAuth,
  client_secret_basic: clientSecretBasic,
  client_secret_basic_plain: clientSecretBasicPlain,
  client_secret_post: clientSecretPost,
};

/**
 * A standard OAuth 2.0 server (RFC 6749): form bodies, RFC 6749 §5 answers, space-separated scopes.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749
 */
export function oauth2(options: OAuth2Options): Profile {
  const clientId = requireString('clientId', options.clientId);
  const { clientSecret: secret, clientKey: key } = options;
  const tokenUrl = checkEndpoint('tokenUrl', options.tokenUrl);
  let clientAuth: Profile['clientAuth'];
  if (key !== undefined) {
    clientAuth = key.authenticate(clientId, tokenUrl, options);
  } else {
    const auth = requireKey('auth', options.auth ?? (secret === undefined ? 'none' : 'client_secret_basic'), AUTH);
    // One check for both mistakes: "none" with any clientSecret (even ''), a secret method without one.
    if ((auth === 'none') !== (secret === undefined) || secret === '') {
      throw new TokenGateError(
        ERR_INVALID_CONFIG,
        DEV ? (auth === 'none' ? 'auth "none" is for public clients; remove clientSecret or choose client_secret_basic / client_secret_post' : `auth "${auth}" needs a clientSecret`) : `auth "${auth}" clientSecret`,
      );
    }
    // Only "none" is left without a secret, and it takes none.
    clientAuth = AUTH[auth](clientId, secret!);
  }
  const scope = scopeList(options.scope);
  const grant = grantParams(options.grant, secret !== undefined || key !== undefined);
  const endpoints: Record<string, string | undefined> = {};
  for (const name of ['authorizeUrl', 'apiBaseUrl', 'revocationUrl', 'introspectionUrl'] as const) {
    const value = options[name];
    if (value !== undefined) endpoints[name] = checkEndpoint(name, value);
  }
  return {
    ...endpoints,
    name: options.name ?? 'oauth2',
    clientId,
    tokenUrl,
    issuer: options.issuer,
    requireIss: options.requireIss,
    clientAuth,
    bodyEncoding: 'form',
    scope,
    scopeSeparator: ' ',
    defaultLifetime: options.defaultLifetime,
    minInterval: options.minInterval,
    grant,
    secrets: secretsOf(secret, grant),
    fetch: options.fetch,
    timeout: options.timeout,
    maxResponseBytes: options.maxResponseBytes,
  };
}

/** The wire parameters of the `grant` option; a password grant is checked for JavaScript callers. */
function grantParams(grant: OAuth2Options['grant'], confidential: boolean): Readonly<Record<string, string>> | undefined {
  if (grant === 'none') return undefined;
  if (grant === 'client_credentials' || (grant === undefined && confidential)) return { grant_type: 'client_credentials' };
  if (grant?.['type'] !== 'password') return grant as Readonly<Record<string, string>> | undefined;
  const { username, password } = grant as PasswordGrant;
  return { grant_type: 'password', username: requireString('grant.username', username), password: requireString('grant.password', password) };
}

/** The credentials a profile holds, for redaction. */
export function secretsOf(secret: string | undefined, grant: Readonly<Record<string, string>> | undefined): string[] {
  const values = [secret, grant?.['password'], grant?.['refresh_token']];
  return values.filter((value): value is string => !!value);
}
