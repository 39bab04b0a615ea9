import { DEV } from '#dev';
import { clientSecretBasicPlain } from '../client-auth.js';
import { ERR_INVALID_CONFIG, TokenGateError } from '../errors.js';
import { checkEndpoint, requireKey, requireString, type Profile } from '../profile.js';
import type { CommonProfileOptions } from './oauth2.js';

/**
 * The instellix environments the document lists.
 *
 * @see instellix API documentation, "Introduction" / "API authentication and authorization flow"
 */
export type InstellixEnvironment = 'production' | 'sandbox' | 'stage';

/**
 * Options of {@link instellix}: realm, environment and API credentials from onboarding.
 *
 * @see instellix API documentation, "Introduction" / "API authentication and authorization flow"
 */
export interface InstellixOptions extends CommonProfileOptions {
  /** Your realm, the first path segment of the token URL; given at onboarding. */
  realm: string;
  environment: InstellixEnvironment;
  clientId: string;
  clientSecret: string;
  /** Default `{host}/{realm}/oauth2/token` for the environment's host. */
  tokenUrl?: string;
  /** Default: the environment's host. */
  apiBaseUrl?: string;
}

// instellix "Introduction", "Environments and API Access": one host per environment.
const HOSTS: Readonly<Record<InstellixEnvironment, string>> = {
  production: 'https://api.instellix.io',
  sandbox: 'https://api.sandbox.instellix.io',
  stage: 'https://api.isx-stage-westeurope.instellix.io',
};

/**
 * instellix: client credentials with HTTP Basic to `/{realm}/oauth2/token`, opaque tokens with a
 * 5-minute default lifetime, and no new token within 5 s of the last one.
 *
 * @see instellix API documentation, "Introduction" / "API authentication and authorization flow"
 */
export function instellix(options: InstellixOptions): Profile {
  const realm = requireString('realm', options.realm);
  if (realm.includes('/') || realm === '.' || realm === '..') {
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'realm must be a single URL path segment (no "/", not "." or "..")' : 'realm');
  }
  const host = HOSTS[requireKey('environment', options.environment, HOSTS)];
  const clientId = requireString('clientId', options.clientId);
  const clientSecret = requireString('clientSecret', options.clientSecret);
  return {
    name: 'instellix',
    clientId,
    tokenUrl: options.tokenUrl === undefined ? `${host}/${encodeURIComponent(realm)}/oauth2/token` : checkEndpoint('tokenUrl', options.tokenUrl),
    apiBaseUrl: options.apiBaseUrl === undefined ? host : checkEndpoint('apiBaseUrl', options.apiBaseUrl).replace(/\/+$/, ''),
    // instellix "API authentication and authorization flow": Basic base64(client_id:client_secret), built
    // by hand without the form-encoding of RFC 6749 §2.3.1.
    clientAuth: clientSecretBasicPlain(clientId, clientSecret),
    // instellix "API authentication and authorization flow": the cURL sample uses --form (multipart); RFC
    // 6749 §4.4.2 urlencoded is sent, with grant_type=client_credentials as the only field.
    bodyEncoding: 'form',
    scopeSeparator: ' ',
    // instellix "API authentication and authorization flow": lifetime depends on the instance, default 5 minutes.
    defaultLifetime: 300,
    // instellix "API authentication and authorization flow": polling new tokens within 5 s can be answered 401.
    minInterval: 5_000,
    // instellix "API authentication and authorization flow": that early poll is answered 401, for otherwise correct credentials.
    minIntervalStatus: 401,
    grant: { grant_type: 'client_credentials' },
    secrets: [clientSecret],
    fetch: options.fetch,
    timeout: options.timeout,
    maxResponseBytes: options.maxResponseBytes,
  };
}
