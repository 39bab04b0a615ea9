import { clientSecretPost } from '../client-auth.js';
import type { OAuthErrorFields } from '../errors.js';
import { checkEndpoint, requireString, type Profile } from '../profile.js';
import type { CommonProfileOptions } from './oauth2.js';

/**
 * Options of {@link instabox}: the client ID and secret Instabox provides.
 *
 * @see Instabox API documentation, "Authentication"
 */
export interface InstaboxOptions extends CommonProfileOptions {
  /** The client ID provided by Instabox. */
  clientId: string;
  /** The client secret provided by Instabox; keep it server-side. */
  clientSecret: string;
  /** Default `https://oauth.instabox.se/v1/token`. */
  tokenUrl?: string;
  /** Default `https://webshopintegrations.instabox.se`. */
  apiBaseUrl?: string;
}

const TOKEN_URL = 'https://oauth.instabox.se/v1/token';
const API_BASE_URL = 'https://webshopintegrations.instabox.se';

/**
 * The Instabox API: client credentials in a form body, a non-standard `{"status":"OK","token":...}`
 * answer without expiry, tokens valid for 24 hours.
 *
 * @see Instabox API documentation, "Authentication"
 */
export function instabox(options: InstaboxOptions): Profile {
  const clientId = requireString('clientId', options.clientId);
  const clientSecret = requireString('clientSecret', options.clientSecret);
  return {
    name: 'instabox',
    clientId,
    tokenUrl: options.tokenUrl === undefined ? TOKEN_URL : checkEndpoint('tokenUrl', options.tokenUrl),
    apiBaseUrl: options.apiBaseUrl === undefined ? API_BASE_URL : checkEndpoint('apiBaseUrl', options.apiBaseUrl).replace(/\/+$/, ''),
    // Instabox "Authentication" page: grant_type, client_id and client_secret all go in the form body.
    clientAuth: clientSecretPost(clientId, clientSecret),
    bodyEncoding: 'form',
    scopeSeparator: ' ',
    // Instabox "Authentication" page: the answer has no expiry field; tokens are valid for 24 hours.
    defaultLifetime: 86_400,
    grant: { grant_type: 'client_credentials' },
    mapTokenBody: mapInstaboxToken,
    mapErrorBody: mapInstaboxError,
    secrets: [clientSecret],
    fetch: options.fetch,
    timeout: options.timeout,
    maxResponseBytes: options.maxResponseBytes,
  };
}

/**
 * Instabox "Authentication" page: the answer is `{"status":"OK","token":...}`, not RFC 6749 §5.1. Any
 * other status, or no token, is passed on without `access_token` so the check refuses it. Tokens may be
 * longer than 255 characters and are kept as sent.
 */
function mapInstaboxToken(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const { status, token } = body as Record<string, unknown>;
  if (status === 'OK' && typeof token === 'string' && token.length > 0) return { access_token: token, token_type: 'Bearer' };
  return { status };
}

/** Instabox "Authentication" page, "Error Handling": 401 means bad credentials, 400 a malformed request. */
function mapInstaboxError(_body: unknown, status: number): OAuthErrorFields | undefined {
  if (status === 401) return { error: 'invalid_client', description: 'Invalid credentials: verify client_id and client_secret' };
  if (status === 400) {
    return {
      error: 'invalid_request',
      description: 'Malformed request: send grant_type=client_credentials with Content-Type application/x-www-form-urlencoded',
    };
  }
  return undefined;
}
