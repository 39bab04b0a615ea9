import { clientSecretBasic, clientSecretPost, noClientAuth, type ClientAuthMethod } from '../client-auth.js';
import { ERR_INVALID_CONFIG, TokenGateError } from '../errors.js';
import { checkEndpoint, requireString, type Profile } from '../profile.js';
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
  clientId: string;
  clientSecret?: string;
  /** Default: `client_secret_basic` when a secret is given, `none` otherwise. */
  auth?: ClientAuthMethod;
  scope?: readonly string[] | string;
  /**
   * The grant that gets a token from nothing. Default: `client_credentials` for a confidential client,
   * none for a public one (it gets tokens by linking and keeps them by refreshing).
   */
  grant?: 'client_credentials' | 'none' | Readonly<Record<string, string>>;
  /** Lifetime in seconds assumed when an answer lacks `expires_in`. Default: unknown. */
  defaultLifetime?: number;
  /** Minimum milliseconds between token requests. */
  minInterval?: number;
  /** Profile name used in errors and store keys. Default `oauth2`. */
  name?: string;
}

/**
 * A standard OAuth 2.0 server (RFC 6749): form bodies, RFC 6749 §5 answers, space-separated scopes.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749
 */
export function oauth2(options: OAuth2Options): Profile {
  const clientId = requireString('clientId', options.clientId);
  const secret = options.clientSecret;
  const auth = options.auth ?? (secret === undefined ? 'none' : 'client_secret_basic');
  if (auth !== 'none' && (secret === undefined || secret === '')) {
    throw new TokenGateError(ERR_INVALID_CONFIG, `auth "${auth}" needs a clientSecret`);
  }
  if (auth === 'none' && secret !== undefined) {
    throw new TokenGateError(ERR_INVALID_CONFIG, 'auth "none" is for public clients; remove clientSecret or choose client_secret_basic / client_secret_post');
  }
  const clientAuth =
    auth === 'client_secret_basic'
      ? clientSecretBasic(clientId, secret!)
      : auth === 'client_secret_post'
        ? clientSecretPost(clientId, secret!)
        : auth === 'none'
          ? noClientAuth(clientId)
          : invalidAuth(auth);
  const scope = typeof options.scope === 'string' ? options.scope.split(' ').filter(Boolean) : options.scope;
  const grant =
    options.grant === 'none'
      ? undefined
      : options.grant === 'client_credentials' || (options.grant === undefined && secret !== undefined)
        ? { grant_type: 'client_credentials' }
        : options.grant;
  return {
    name: options.name ?? 'oauth2',
    clientId,
    tokenUrl: checkEndpoint('tokenUrl', options.tokenUrl),
    authorizeUrl: options.authorizeUrl === undefined ? undefined : checkEndpoint('authorizeUrl', options.authorizeUrl),
    apiBaseUrl: options.apiBaseUrl === undefined ? undefined : checkEndpoint('apiBaseUrl', options.apiBaseUrl),
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

function invalidAuth(auth: never): never {
  throw new TokenGateError(ERR_INVALID_CONFIG, `auth must be client_secret_basic, client_secret_post or none, not "${String(auth)}"`);
}

/** The credentials a profile holds, for redaction. */
export function secretsOf(secret: string | undefined, grant: Readonly<Record<string, string>> | undefined): string[] {
  const values = [secret, grant?.['password'], grant?.['refresh_token']];
  return values.filter((value): value is string => value !== undefined && value !== '');
}
