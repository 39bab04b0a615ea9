import { DEV } from '#dev';
import * as v from 'valibot';
import { importClientKey } from '../client-assertion.js';
import { withPar } from '../par.js';
import type { ClientAuthentication } from '../client-auth.js';
import { ERR_INVALID_CONFIG, ERR_INVALID_METADATA, TokenGateError } from '../errors.js';
import type { Profile } from '../profile.js';
import { errorFromAnswer } from '../token-response.js';
import { readJson, send } from '../transport.js';
import { oauth2, type OAuth2Auth, type OAuth2Options } from './oauth2.js';

/** The RFC 8414 fields tokengate uses; the rest is kept. */
const Metadata = v.looseObject({
  issuer: v.pipe(v.string(), v.minLength(1)),
  token_endpoint: v.pipe(v.string(), v.minLength(1)),
  authorization_endpoint: v.optional(v.string()),
  code_challenge_methods_supported: v.optional(v.array(v.string())),
  token_endpoint_auth_methods_supported: v.optional(v.array(v.string())),
  authorization_response_iss_parameter_supported: v.optional(v.boolean()),
  revocation_endpoint: v.optional(v.string()),
  revocation_endpoint_auth_methods_supported: v.optional(v.array(v.string())),
  introspection_endpoint: v.optional(v.string()),
  introspection_endpoint_auth_methods_supported: v.optional(v.array(v.string())),
  pushed_authorization_request_endpoint: v.optional(v.string()),
  require_pushed_authorization_requests: v.optional(v.boolean()),
});

/** Authorization server metadata (RFC 8414 §2), the fields tokengate reads plus whatever else was sent. */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  authorization_endpoint?: string | undefined;
  code_challenge_methods_supported?: string[] | undefined;
  token_endpoint_auth_methods_supported?: string[] | undefined;
  authorization_response_iss_parameter_supported?: boolean | undefined;
  revocation_endpoint?: string | undefined;
  revocation_endpoint_auth_methods_supported?: string[] | undefined;
  introspection_endpoint?: string | undefined;
  introspection_endpoint_auth_methods_supported?: string[] | undefined;
  pushed_authorization_request_endpoint?: string | undefined;
  require_pushed_authorization_requests?: boolean | undefined;
  [field: string]: unknown;
}

export type DiscoverOptions = Omit<OAuth2Options, 'tokenUrl' | 'authorizeUrl' | 'issuer' | 'requireIss'> & {
  signal?: AbortSignal;
};

/**
 * Builds an `oauth2` profile from the server's metadata (RFC 8414, falling back to OpenID Connect
 * Discovery). Checks that the metadata names exactly this issuer (RFC 8414 §3.3), that PKCE S256 is
 * supported when methods are listed, and that the chosen client authentication is offered (an
 * explicit `auth` is taken as given: the client knows its own registration, and some servers list
 * less than they accept). Turns on the RFC 9207 `iss` check, and requires `iss` when the server
 * advertises it. The profile's `clientAuthMethod` names the method chosen; revocation and
 * introspection use their endpoint's own listed methods when the metadata has them.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
export async function discover(issuer: string, options: DiscoverOptions): Promise<Profile> {
  const metadata = await fetchMetadata(issuer, options);
  const methods = metadata.code_challenge_methods_supported;
  if (methods !== undefined && metadata.authorization_endpoint !== undefined && !methods.includes('S256')) {
    throw new TokenGateError(ERR_INVALID_METADATA, DEV ? `${issuer} does not support PKCE S256` : `${issuer} S256`);
  }
  const auth = chooseAuth(issuer, metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic'], options);
  const { signal: _signal, ...profileOptions } = options;
  const endpoints = {
    authorizeUrl: metadata.authorization_endpoint,
    revocationUrl: metadata.revocation_endpoint,
    introspectionUrl: metadata.introspection_endpoint,
  };
  const common = {
    ...profileOptions,
    issuer: metadata.issuer,
    requireIss: metadata.authorization_response_iss_parameter_supported === true,
    tokenUrl: metadata.token_endpoint,
    ...Object.fromEntries(Object.entries(endpoints).filter(([, url]) => url !== undefined)),
  };
  /** The client authentication of `method`, as `oauth2()` makes it. */
  const authOf = async (method: OAuth2Auth) => {
    // client_secret_jwt for a secret alone: its HMAC key is made from that secret.
    const clientKey = method === 'client_secret_jwt' && options.clientKey === undefined ? await importClientKey({ secret: options.clientSecret! }) : options.clientKey;
    return oauth2({ ...common, auth: method, ...(clientKey === undefined ? {} : { clientKey }) });
  };
  const profile = await authOf(auth);
  const method = registeredName(auth);
  const endpointAuth: Partial<Record<'revocation' | 'introspection', ClientAuthentication>> = {};
  for (const endpoint of ['revocation', 'introspection'] as const) {
    const listed = metadata[`${endpoint}_endpoint_auth_methods_supported`];
    if (listed === undefined || metadata[`${endpoint}_endpoint`] === undefined || listed.includes(method)) continue;
    const usable = usableMethods(options).find((candidate) => listed.includes(candidate));
    endpointAuth[endpoint] = usable === undefined
      ? () => {
          throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `The ${endpoint} endpoint of ${issuer} takes only ${listed.join(', ') || 'nothing'}, none of which this client (${method}) can use` : `${issuer} ${endpoint} ${method} [${listed.join(', ')}]`);
        }
      : (await authOf(usable)).clientAuth;
  }
  const described = { ...profile, clientAuthMethod: method, ...(Object.keys(endpointAuth).length === 0 ? {} : { endpointAuth }) };
  const par = metadata.pushed_authorization_request_endpoint;
  return par === undefined ? described : withPar(described, { url: par, required: metadata.require_pushed_authorization_requests === true });
}

/** The RFC 7591 §2 name of a method: plain Basic is Basic on the wire. */
const registeredName = (auth: OAuth2Auth): string => (auth === 'client_secret_basic_plain' ? 'client_secret_basic' : auth);

/** The methods this client can authenticate with: its key's, its secret's (its chosen one first), or none. */
function usableMethods(options: DiscoverOptions): OAuth2Auth[] {
  if (options.clientKey !== undefined) return [options.clientKey.method];
  if (options.clientSecret === undefined) return ['none'];
  return [...(options.auth === undefined ? [] : [options.auth]), 'client_secret_basic', 'client_secret_post', 'client_secret_jwt'];
}

/**
 * The caller's `auth` as given; a `clientKey`'s own method if the server offers it; else the first
 * secret-based one the server lists: Basic, then post, then `client_secret_jwt`. RFC 8414 §2 default:
 * Basic.
 */
function chooseAuth(issuer: string, offered: readonly string[], options: DiscoverOptions): OAuth2Auth {
  const list = offered.join(', ') || 'nothing';
  // An explicit auth wins over the list: the caller knows its registration (oauth2() still checks it
  // against the credentials given).
  if (options.auth !== undefined) return options.auth;
  const asked = options.clientKey?.method;
  if (asked !== undefined) {
    if (offered.includes(asked)) return asked;
    throw new TokenGateError(ERR_INVALID_METADATA, DEV ? `${issuer} does not offer client authentication "${asked}"; it lists ${list} (pass auth: "${asked}" if your registration uses it anyway)` : `${issuer} "${asked}" [${list}]`);
  }
  if (options.clientSecret === undefined) return 'none';
  const auth = (['client_secret_basic', 'client_secret_post', 'client_secret_jwt'] as const).find((method) => offered.includes(method));
  if (auth === undefined) {
    throw new TokenGateError(ERR_INVALID_METADATA, DEV ? `${issuer} offers no client authentication with a client secret (it lists ${list}); drop clientSecret for a public client, or choose auth` : `${issuer} clientSecret [${list}]`);
  }
  return auth;
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
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'issuer is not an absolute URL' : 'issuer');
  }
  if (base.search || base.hash) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'issuer must not contain a query or fragment (RFC 8414 §2)' : 'issuer ?#');
  // RFC 8414 §3.1: the well-known suffix goes between host and path (a terminating "/" dropped);
  // OpenID Connect Discovery §4.1: appended to the issuer's path.
  const path = base.pathname === '/' ? '' : base.pathname.replace(/\/$/, '');
  const candidates = [
    `${base.origin}/.well-known/oauth-authorization-server${path}`,
    `${base.origin}${path}/.well-known/openid-configuration`,
  ];
  const label = 'authorization server metadata endpoint';
  let failure: TokenGateError | undefined;
  for (const url of candidates) {
    const response = await send(url, { method: 'GET', headers: { accept: 'application/json' } }, { label, ...transport(options) });
    const body = await readJson(response, { label, maxBytes: options.maxResponseBytes, timeout: options.timeout, signal: options.signal });
    // Not a metadata document here (404, a login page, a 403 of a path it does not serve): the next
    // location may have one. A document that names another issuer is a refusal, never skipped.
    if (!response.ok || body.kind !== 'json') {
      failure ??= response.ok
        ? new TokenGateError(ERR_INVALID_METADATA, DEV ? `The ${label} of ${issuer} did not answer with JSON (at ${url})` : `${url} ${response.status}`, { status: response.status })
        : errorFromAnswer({}, response, body, label, []);
      continue;
    }
    const parsed = v.safeParse(Metadata, body.value);
    if (!parsed.success) {
      const field = parsed.issues[0] ? v.getDotPath(parsed.issues[0]) ?? 'body' : 'body';
      throw new TokenGateError(ERR_INVALID_METADATA, DEV ? `The metadata of ${issuer} has a missing or invalid "${field}"` : `${issuer} "${field}"`);
    }
    // RFC 8414 §3.3 and OpenID Connect Discovery §4.3: identical to the issuer the URL was built from.
    if (parsed.output.issuer !== issuer) {
      throw new TokenGateError(ERR_INVALID_METADATA, DEV ? `The metadata at ${url} names issuer ${parsed.output.issuer}, not ${issuer}` : `${url} ${parsed.output.issuer}`);
    }
    return parsed.output;
  }
  throw new TokenGateError(ERR_INVALID_METADATA, DEV ? `No metadata found for ${issuer} at ${candidates.join(' or ')}: ${failure?.message}` : `${candidates.join(' ')}: ${failure?.message}`, { status: failure?.status, cause: failure });
}

function transport(options: Pick<DiscoverOptions, 'fetch' | 'timeout' | 'signal'>): { fetch?: DiscoverOptions['fetch']; timeout?: number; signal?: AbortSignal } {
  return {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}
