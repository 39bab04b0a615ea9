import { DEV } from '#dev';
import { clientSecretPost, noClientAuth } from '../client-auth.js';
import { ERR_INVALID_CONFIG, TokenGateError, type OAuthErrorFields } from '../errors.js';
import { checkEndpoint, requireString, type Profile } from '../profile.js';
import type { CommonProfileOptions } from './oauth2.js';

interface ShopwareCommonOptions extends CommonProfileOptions {
  /** The shop's base URL, e.g. `https://shop.example` (a path prefix is kept). */
  shopUrl: string;
  /** Default `{shopUrl}/api/oauth/token`. */
  tokenUrl?: string;
  /** Default `{shopUrl}`. */
  apiBaseUrl?: string;
}

/**
 * An integration: the client credentials grant with its access key ID and secret access key.
 *
 * @see Shopware Admin API documentation, "Authentication"
 */
export interface ShopwareIntegrationOptions extends ShopwareCommonOptions {
  clientId: string;
  clientSecret: string;
  username?: never;
  password?: never;
}

/**
 * An admin user: the password grant, as the administration uses it, then refresh tokens.
 *
 * @see Shopware Admin API documentation, "Authentication"
 */
export interface ShopwareUserOptions extends ShopwareCommonOptions {
  username: string;
  password: string;
  clientId?: never;
  clientSecret?: never;
}

/**
 * Options of {@link shopware}: an integration or an admin user, never both.
 *
 * @see Shopware Admin API documentation, "Authentication"
 */
export type ShopwareOptions = ShopwareIntegrationOptions | ShopwareUserOptions;

/**
 * The Shopware 6 Admin API: JSON bodies to `/api/oauth/token`, either an integration (client
 * credentials) or an admin user (password grant with client_id `administration`, then refresh tokens).
 * Tokens live 10 minutes.
 *
 * In user mode the profile's `clientId` is `administration` for every shop and user, so give each
 * shop/user its own `key` when several token sources share one store.
 *
 * @see Shopware Admin API documentation, "Authentication"
 */
export function shopware(options: ShopwareOptions): Profile {
  const base = shopBase(requireString('shopUrl', options.shopUrl));
  const { clientId, clientSecret, username, password } = options as Partial<Record<'clientId' | 'clientSecret' | 'username' | 'password', unknown>>;
  const integration = clientId !== undefined || clientSecret !== undefined;
  const user = username !== undefined || password !== undefined;
  if (integration && user) {
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'shopware takes clientId + clientSecret (integration) or username + password (admin user), not both' : 'shopware both');
  }
  if (!integration && !user) {
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'shopware needs clientId + clientSecret (integration) or username + password (admin user)' : 'shopware');
  }
  const common = {
    name: 'shopware',
    tokenUrl: options.tokenUrl === undefined ? `${base}/api/oauth/token` : checkEndpoint('tokenUrl', options.tokenUrl),
    apiBaseUrl: options.apiBaseUrl === undefined ? base : checkEndpoint('apiBaseUrl', options.apiBaseUrl).replace(/\/+$/, ''),
    // Shopware "Authentication": every token request is a JSON body.
    bodyEncoding: 'json',
    scopeSeparator: ' ',
    // Shopware "Authentication": access tokens of every grant are valid for 10 minutes.
    defaultLifetime: 600,
    mapErrorBody: mapShopwareError,
    fetch: options.fetch,
    timeout: options.timeout,
    maxResponseBytes: options.maxResponseBytes,
  } as const;
  if (integration) {
    const id = requireString('clientId', clientId);
    const secret = requireString('clientSecret', clientSecret);
    return {
      ...common,
      clientId: id,
      // Shopware "Authentication", "Integration": client_id and client_secret go in the JSON body.
      clientAuth: clientSecretPost(id, secret),
      grant: { grant_type: 'client_credentials' },
      secrets: [secret],
    };
  }
  const name = requireString('username', username);
  const secret = requireString('password', password);
  return {
    ...common,
    clientId: 'administration',
    // Shopware "Authentication", "Username and Password" and "Refresh Token": the public client
    // `administration`, so the refresh grant sends grant_type, client_id and refresh_token only.
    clientAuth: noClientAuth('administration'),
    // Shopware "Authentication", "Username and Password": the parameter is `scopes` (plural), value "write".
    grant: { grant_type: 'password', scopes: 'write', username: name, password: secret },
    secrets: [secret],
  };
}

function shopBase(shopUrl: string): string {
  const url = new URL(checkEndpoint('shopUrl', shopUrl));
  if (url.search) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'shopUrl must not contain a query' : 'shopUrl ?');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The codes of league/oauth2-server's OAuthServerException, which Shopware sends as `errors[].code`.
 * Code 6 was `invalid_credentials` and code 8 `invalid_request` in older releases; both mean the grant
 * was refused, which RFC 6749 §5.2 calls `invalid_grant`.
 */
const LEAGUE_CODES: Readonly<Record<string, string>> = {
  '2': 'unsupported_grant_type',
  '3': 'invalid_request',
  '4': 'invalid_client',
  '5': 'invalid_scope',
  '6': 'invalid_grant',
  '7': 'server_error',
  '8': 'invalid_grant',
  '9': 'access_denied',
  '10': 'invalid_grant',
  '11': 'expired_token',
  '12': 'authorization_pending',
  '13': 'slow_down',
  '14': 'unauthorized_client',
};

/** Titles that name a refused grant whatever code they come with. */
const REFUSED_GRANT_TITLES = ['The user credentials were incorrect.', 'The refresh token is invalid.'];

const OAUTH_CODE = /^[a-z][a-z_]{2,63}$/;

/**
 * Shopware answers errors JSON:API style, `{"errors":[{"code","status","title","detail"}]}`, not RFC
 * 6749 §5.2; the first error decides the OAuth code. A plain RFC 6749 body falls back to the standard
 * mapping. Titles and details go into the description, which is redacted with every credential of the
 * request; `details` keeps only each error's code and status.
 */
function mapShopwareError(body: unknown, status: number): OAuthErrorFields | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const errors = (body as Record<string, unknown>)['errors'];
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const entries = errors.filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null);
  const first = entries[0];
  if (first === undefined) return undefined;
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
  const code = text(first['code']) ?? (typeof first['code'] === 'number' ? String(first['code']) : undefined);
  const title = text(first['title']);
  const detail = text(first['detail']);
  const error =
    title !== undefined && REFUSED_GRANT_TITLES.includes(title)
      ? 'invalid_grant'
      : code !== undefined && Object.hasOwn(LEAGUE_CODES, code)
        ? LEAGUE_CODES[code]!
        : code !== undefined && OAUTH_CODE.test(code)
          ? code
          : fromStatus(status);
  const description = [title, detail].filter((part, index, all): part is string => part !== undefined && all.indexOf(part) === index).join(': ');
  return {
    error,
    description: description === '' ? undefined : description,
    details: entries.map((entry) => ({
      ...(text(entry['code']) === undefined ? {} : { code: entry['code'] as string }),
      ...(text(entry['status']) === undefined ? {} : { status: entry['status'] as string }),
    })),
  };
}

function fromStatus(status: number): string {
  if (status === 401) return 'invalid_client';
  if (status === 403) return 'access_denied';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}
