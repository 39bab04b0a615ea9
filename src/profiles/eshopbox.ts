import { clientSecretPost } from '../client-auth.js';
import { checkEndpoint, requireString, type Profile } from '../profile.js';
import type { CommonProfileOptions } from './oauth2.js';

/**
 * Options of {@link eshopbox}: the three values copied from the custom app.
 *
 * @see Eshopbox API documentation, "Generating access token"
 */
export interface EshopboxOptions extends CommonProfileOptions {
  /** The app's client_id, copied after creating the custom app. */
  clientId: string;
  /** The app's client_secret. */
  clientSecret: string;
  /** The app's long-lived refresh_token, exchanged for every access token. */
  refreshToken: string;
  /**
   * The Authentication API's `/oauth/token` endpoint. Default `https://auth.myeshopbox.com/oauth/token`;
   * pass the URL of your deployment, since the document names only the path.
   */
  tokenUrl?: string;
  /** Default `https://wms.eshopbox.com`. */
  apiBaseUrl?: string;
}

// Eshopbox "Generating access token": the document names only the path "/oauth/token" of the
// Authentication API, no host; this default is an assumption, so deployments should pass tokenUrl.
const TOKEN_URL = 'https://auth.myeshopbox.com/oauth/token';
const API_BASE_URL = 'https://wms.eshopbox.com';

/**
 * Eshopbox custom apps: the long-lived refresh token from the app settings is exchanged for short-lived
 * access tokens with client_id and client_secret in the body.
 *
 * @see Eshopbox API documentation, "Generating access token"
 */
export function eshopbox(options: EshopboxOptions): Profile {
  const clientId = requireString('clientId', options.clientId);
  const clientSecret = requireString('clientSecret', options.clientSecret);
  const refreshToken = requireString('refreshToken', options.refreshToken);
  return {
    name: 'eshopbox',
    clientId,
    tokenUrl: options.tokenUrl === undefined ? TOKEN_URL : checkEndpoint('tokenUrl', options.tokenUrl),
    apiBaseUrl: options.apiBaseUrl === undefined ? API_BASE_URL : checkEndpoint('apiBaseUrl', options.apiBaseUrl).replace(/\/+$/, ''),
    // Eshopbox "Generating access token": client_id and client_secret "must be provided in the request body".
    clientAuth: clientSecretPost(clientId, clientSecret),
    bodyEncoding: 'form',
    // Eshopbox "Generating access token": scope comes comma-separated, e.g. "openid,profile".
    scopeSeparator: ',',
    // Eshopbox "Generating access token": every access token comes from grant_type=refresh_token with the
    // app's refresh token; a refused one cannot be replaced by another grant.
    grant: { grant_type: 'refresh_token', refresh_token: refreshToken },
    secrets: [clientSecret, refreshToken],
    fetch: options.fetch,
    timeout: options.timeout,
    maxResponseBytes: options.maxResponseBytes,
  };
}
