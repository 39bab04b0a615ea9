import { DEV } from '#dev';
import { clientSecretPost } from '../client-auth.js';
import { ERR_INVALID_CONFIG, ERR_INVALID_RESPONSE, TokenGateError, type OAuthErrorFields } from '../errors.js';
import { checkEndpoint, requireKey, requireString, scopeList, type Profile, type Scope } from '../profile.js';
import { redact } from '../redact.js';
import { errorFromAnswer, expectJson } from '../token-response.js';
import { readJson, send } from '../transport.js';
import type { FetchLike } from '../types.js';
import type { CommonProfileOptions } from './oauth2.js';

/**
 * The Instacart Connect environments.
 *
 * @see Instacart Connect API documentation, "Authorize an Instacart user for account linking"
 */
export type InstacartEnvironment = 'production' | 'development';

/**
 * Options of {@link instacart}: environment, app credentials and the app token's scopes.
 *
 * @see Instacart Connect API documentation, "Authorize an Instacart user for account linking"
 */
export interface InstacartOptions extends CommonProfileOptions {
  environment: InstacartEnvironment;
  clientId: string;
  clientSecret: string;
  /** Scopes of the app token, e.g. `connect:fulfillment`; a space-separated string or a list. */
  scope: Scope;
  /** Default `{host}/v2/oauth/token`. */
  tokenUrl?: string;
  /** No default: the document describes account linking only through the fulfillment sandbox. */
  authorizeUrl?: string;
  /** Default: the environment's host. */
  apiBaseUrl?: string;
}

// Instacart "Authorize an Instacart user for account linking" shows connect.instacart.com; the development
// host is Instacart Connect's test environment, where the fulfillment sandbox lives.
const HOSTS: Readonly<Record<InstacartEnvironment, string>> = {
  production: 'https://connect.instacart.com',
  development: 'https://connect.dev.instacart.tools',
};

/**
 * Instacart Connect: an app token from the client credentials grant (JSON body with client_id,
 * client_secret, grant_type and scope), and account linking codes exchanged with the authorization
 * code grant. Errors come in Instacart's own `error` / `errors` shape.
 *
 * @see Instacart Connect API documentation, "Authorize an Instacart user for account linking"
 */
export function instacart(options: InstacartOptions): Profile {
  const host = HOSTS[requireKey('environment', options.environment, HOSTS)];
  const clientId = requireString('clientId', options.clientId);
  const clientSecret = requireString('clientSecret', options.clientSecret);
  const scope = requiredScope(options.scope);
  const secrets = [clientSecret];
  return {
    name: 'instacart',
    clientId,
    tokenUrl: options.tokenUrl === undefined ? `${host}/v2/oauth/token` : checkEndpoint('tokenUrl', options.tokenUrl),
    authorizeUrl: options.authorizeUrl === undefined ? undefined : checkEndpoint('authorizeUrl', options.authorizeUrl),
    apiBaseUrl: options.apiBaseUrl === undefined ? host : checkEndpoint('apiBaseUrl', options.apiBaseUrl).replace(/\/+$/, ''),
    // Instacart Connect token endpoint (not in the account-linking document cited above): JSON body of client_id, client_secret, grant_type, scope.
    clientAuth: clientSecretPost(clientId, clientSecret),
    bodyEncoding: 'json',
    scope,
    scopeSeparator: ' ',
    grant: { grant_type: 'client_credentials' },
    mapErrorBody: (body, status) => mapInstacartError(body, status, secrets),
    secrets,
    fetch: options.fetch,
    timeout: options.timeout,
    maxResponseBytes: options.maxResponseBytes,
  };
}

/** A required scope: a non-empty string or list of scopes. */
function requiredScope(value: unknown): string[] {
  const scope = scopeList(value);
  if (scope === undefined || scope.length === 0) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'scope is required: a non-empty string or list of scopes' : 'scope');
  return scope;
}

/**
 * One entry of an Instacart error answer, without its message (that goes into the description).
 *
 * @see Instacart Connect API documentation, "Authorize an Instacart user for account linking"
 */
export interface InstacartErrorDetail {
  /** Instacart's error code, e.g. `1001`. */
  code?: number | string;
  /** `meta.key`: the field the error is about, e.g. `user_id`. */
  key?: string;
}

/**
 * Instacart Connect "4XX Errors": "Error responses return either a single error or multiple errors",
 * `{"error":{"message","code","meta":{"key"}}}` or `{"errors":[...]}`. A standard RFC 6749 §5.2 body
 * (`error` is a string) falls back to the standard mapping.
 */
function mapInstacartError(body: unknown, status: number, secrets: readonly string[]): OAuthErrorFields | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const list: unknown[] | undefined = Array.isArray(record['errors'])
    ? record['errors']
    : typeof record['error'] === 'object' && record['error'] !== null
      ? [record['error']]
      : undefined;
  const entries = list?.filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null);
  if (entries === undefined || entries.length === 0) return undefined;
  const messages = entries.map((entry) => entry['message']).filter((message): message is string => typeof message === 'string' && message.length > 0);
  return {
    error: status === 400 ? 'invalid_request' : status === 401 ? 'invalid_client' : status === 403 ? 'access_denied' : 'server_error',
    description: messages.length === 0 ? undefined : messages.join('; '),
    details: entries.map((entry) => detailOf(entry, secrets)),
  };
}

function detailOf(entry: Record<string, unknown>, secrets: readonly string[]): InstacartErrorDetail {
  const code = entry['code'];
  const meta = entry['meta'];
  const key = typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>)['key'] : undefined;
  return {
    ...(typeof code === 'number' && Number.isFinite(code) ? { code } : typeof code === 'string' && code !== '' ? { code: redact(code, secrets) } : {}),
    ...(typeof key === 'string' && key !== '' ? { key: redact(key, secrets) } : {}),
  };
}

/**
 * Options of {@link authorizeSandboxUser}.
 *
 * @see Instacart Connect API documentation, "Authorize an Instacart user for account linking"
 */
export interface AuthorizeSandboxUserOptions {
  /** The ID of the test user made with the fulfillment sandbox's "create Instacart user" endpoint. */
  userId: number | string;
  /** A valid app token (client credentials) of this profile. */
  appToken: string;
  /** The redirect URI the code is issued for; pass the same one to the code exchange. */
  redirectUri: string;
  /** Scopes to authorize; a space-separated string or a list. */
  scope: Scope;
  /** The PKCE S256 challenge of the verifier you keep for the code exchange (`createPkce().challenge`). */
  codeChallenge: string;
  fetch?: FetchLike;
  signal?: AbortSignal;
  /** Milliseconds before `ERR_TIMEOUT`. Default: the profile's, else 10 000. */
  timeout?: number;
}

/**
 * Authorizes an Instacart fulfillment sandbox user for account linking and returns the authorization
 * code, to be exchanged with `authorizationCodeGrant(profile, { code, codeVerifier, redirectUri })`.
 * The code challenge method is always S256.
 *
 * @see Instacart Connect API documentation, "Authorize an Instacart user for account linking"
 */
export async function authorizeSandboxUser(profile: Profile, options: AuthorizeSandboxUserOptions): Promise<string> {
  if (profile.apiBaseUrl === undefined) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `The ${profile.name} profile has no apiBaseUrl` : `${profile.name} apiBaseUrl`);
  const userId = typeof options.userId === 'number' ? (Number.isSafeInteger(options.userId) && options.userId >= 0 ? String(options.userId) : '') : options.userId;
  // Instacart "Authorize an Instacart user for account linking": user_id is an integer path parameter.
  if (typeof userId !== 'string' || !/^\d{1,20}$/.test(userId)) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'userId must be a non-negative integer' : 'userId');
  const appToken = requireString('appToken', options.appToken);
  const redirectUri = requireString('redirectUri', options.redirectUri);
  const codeChallenge = requireString('codeChallenge', options.codeChallenge);
  if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'codeChallenge must be an S256 challenge (43 base64url characters)' : 'codeChallenge');
  }
  const scope = requiredScope(options.scope);
  const url = `${profile.apiBaseUrl.replace(/\/+$/, '')}/v2/fulfillment_sandbox/instacart_users/${userId}/authorize`;
  const label = `${profile.name} sandbox authorize endpoint`;
  const timeout = options.timeout ?? profile.timeout;
  const headers = new Headers({ accept: 'application/json', authorization: `Bearer ${appToken}`, 'content-type': 'application/json' });
  // Instacart "Authorize an Instacart user for account linking": exactly these four JSON fields.
  const body = JSON.stringify({ redirect_uri: redirectUri, scope: scope.join(' '), code_challenge_method: 'S256', code_challenge: codeChallenge });
  const response = await send(url, { method: 'POST', headers, body }, { label, fetch: options.fetch ?? profile.fetch, signal: options.signal, timeout });
  const answer = await readJson(response, { label, maxBytes: profile.maxResponseBytes, timeout, signal: options.signal });
  if (!response.ok) throw errorFromAnswer(profile, response, answer, label, [...profile.secrets, appToken]);
  const value = expectJson(answer, response.status, label);
  const code = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['code'] : undefined;
  if (typeof code !== 'string' || code.length === 0) {
    throw new TokenGateError(ERR_INVALID_RESPONSE, DEV ? `The ${label} answer has a missing or invalid "code"` : `${label} "code"`, { status: response.status });
  }
  return code;
}
