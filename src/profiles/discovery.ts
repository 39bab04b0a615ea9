import * as v from 'valibot';
import type { ClientAuthMethod } from '../client-auth.js';
import { ERR_INVALID_CONFIG, ERR_INVALID_METADATA, TokenGateError } from '../errors.js';
import type { Profile } from '../profile.js';
import { errorFromAnswer } from '../token-response.js';
import { readJson, send } from '../transport.js';
import { oauth2, type OAuth2Options } from './oauth2.js';

/** The RFC 8414 fields tokengate uses; the rest is kept. */
const Metadata = v.looseObject({
  issuer: v.pipe(v.string(), v.minLength(1)),
  token_endpoint: v.pipe(v.string(), v.minLength(1)),
  authorization_endpoint: v.optional(v.string()),
  code_challenge_methods_supported: v.optional(v.array(v.string())),
  token_endpoint_auth_methods_supported: v.optional(v.array(v.string())),
  authorization_response_iss_parameter_supported: v.optional(v.boolean()),
});

/** Authorization server metadata (RFC 8414 §2), the fields tokengate reads plus whatever else was sent. */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  authorization_endpoint?: string | undefined;
  code_challenge_methods_supported?: string[] | undefined;
  token_endpoint_auth_methods_supported?: string[] | undefined;
  authorization_response_iss_parameter_supported?: boolean | undefined;
  [field: string]: unknown;
}

export type DiscoverOptions = Omit<OAuth2Options, 'tokenUrl' | 'authorizeUrl' | 'issuer' | 'requireIss'> & {
  signal?: AbortSignal;
};

/**
 * Builds an `oauth2` profile from the server's metadata (RFC 8414, falling back to OpenID Connect
 * Discovery). Checks that the metadata names exactly this issuer (RFC 8414 §3.3), that PKCE S256 is
 * supported when methods are listed, and that the chosen client authentication is offered. Turns on
 * the RFC 9207 `iss` check, and requires `iss` when the server advertises it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
export async function discover(issuer: string, options: DiscoverOptions): Promise<Profile> {
  const metadata = await fetchMetadata(issuer, options);
  const methods = metadata.code_challenge_methods_supported;
  if (methods !== undefined && metadata.authorization_endpoint !== undefined && !methods.includes('S256')) {
    throw new TokenGateError(ERR_INVALID_METADATA, `${issuer} does not support PKCE S256`);
  }
  const offered = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  const auth: ClientAuthMethod =
    options.auth ?? (options.clientSecret === undefined ? 'none' : offered.includes('client_secret_basic') ? 'client_secret_basic' : 'client_secret_post');
  if (!offered.includes(auth)) {
    throw new TokenGateError(ERR_INVALID_METADATA, `${issuer} does not offer client authentication "${auth}"`);
  }
  const { signal: _signal, ...profileOptions } = options;
  return oauth2({
    ...profileOptions,
    auth,
    issuer: metadata.issuer,
    requireIss: metadata.authorization_response_iss_parameter_supported === true,
    tokenUrl: metadata.token_endpoint,
    ...(metadata.authorization_endpoint === undefined ? {} : { authorizeUrl: metadata.authorization_endpoint }),
  });
}

/**
 * Fetches and checks an issuer's metadata document.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.1
 */
export async function fetchMetadata(
  issuer: string,
  options: Pick<DiscoverOptions, 'fetch' | 'timeout' | 'maxResponseBytes' | 'signal'> = {},
): Promise<AuthorizationServerMetadata> {
  let base: URL;
  try {
    base = new URL(issuer);
  } catch {
    throw new TokenGateError(ERR_INVALID_CONFIG, 'issuer is not an absolute URL');
  }
  if (base.search || base.hash) throw new TokenGateError(ERR_INVALID_CONFIG, 'issuer must not contain a query or fragment (RFC 8414 §2)');
  const path = base.pathname === '/' ? '' : base.pathname.replace(/\/$/, '');
  const candidates = [
    `${base.origin}/.well-known/oauth-authorization-server${path}`,
    `${base.origin}${path}/.well-known/openid-configuration`,
  ];
  const label = 'authorization server metadata endpoint';
  for (const [index, url] of candidates.entries()) {
    const response = await send(url, { method: 'GET', headers: { accept: 'application/json' } }, { label, ...transport(options) });
    const last = index === candidates.length - 1;
    if (response.status === 404 && !last) {
      await response.body?.cancel().catch(() => {});
      continue;
    }
    const body = await readJson(response, { label, maxBytes: options.maxResponseBytes, timeout: options.timeout, signal: options.signal });
    if (!response.ok) throw errorFromAnswer({}, response, body, label, []);
    if (body.kind !== 'json') throw new TokenGateError(ERR_INVALID_METADATA, `The ${label} of ${issuer} did not answer with JSON`, { status: response.status });
    const parsed = v.safeParse(Metadata, body.value);
    if (!parsed.success) {
      const field = parsed.issues[0] ? v.getDotPath(parsed.issues[0]) ?? 'body' : 'body';
      throw new TokenGateError(ERR_INVALID_METADATA, `The metadata of ${issuer} has a missing or invalid "${field}"`);
    }
    if (parsed.output.issuer !== issuer) {
      throw new TokenGateError(ERR_INVALID_METADATA, `The metadata at ${url} names issuer ${parsed.output.issuer}, not ${issuer}`);
    }
    return parsed.output;
  }
  throw new TokenGateError(ERR_INVALID_METADATA, `No metadata found for ${issuer}`);
}

function transport(options: Pick<DiscoverOptions, 'fetch' | 'timeout' | 'signal'>): { fetch?: DiscoverOptions['fetch']; timeout?: number; signal?: AbortSignal } {
  return {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}
