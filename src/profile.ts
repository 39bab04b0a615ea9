import { DEV } from '#dev';
import type { ClientAuthentication } from './client-auth.js';
import { ERR_INVALID_CONFIG, TokenGateError, type ErrorCode, type OAuthErrorFields } from './errors.js';
import type { FetchLike, RequestOptions } from './types.js';

/** How a token request's parameters go on the wire. */
export type BodyEncoding = 'form' | 'json';

/**
 * Everything tokengate needs to speak to one authorization server: plain data plus small functions.
 * The factories in `tokengate/profiles` build these from a vendor's own parameters.
 */
export interface Profile {
  /** Short, stable name (`oauth2`, `instabox`, ...) used in errors, logs and store keys. */
  readonly name: string;
  readonly clientId: string;
  readonly tokenUrl: string;
  readonly authorizeUrl?: string | undefined;
  /** Base URL of the vendor's API, for `createApiClient` and the Worker proxy. */
  readonly apiBaseUrl?: string | undefined;
  /** RFC 7009 token revocation endpoint. */
  readonly revocationUrl?: string | undefined;
  /** RFC 7662 token introspection endpoint. */
  readonly introspectionUrl?: string | undefined;
  /** RFC 9126 pushed authorization request endpoint. */
  readonly parUrl?: string | undefined;
  /** The server accepts authorization requests only pushed (`require_pushed_authorization_requests`). */
  readonly requirePar?: boolean | undefined;
  /**
   * Answers the URL the browser goes to: pushed (RFC 9126 §2, §4; only `client_id` and `request_uri`
   * left in it) when `options.par` asks for it or, without `par`, when the profile requires pushing;
   * else `url` as it is (`withPar` sets it).
   */
  readonly pushAuthorization?: ((profile: Profile, url: URL, options: RequestOptions & { par?: boolean | undefined }) => Promise<string>) | undefined;
  /** The issuer identifier that the authorization response's `iss` must equal (RFC 9207). */
  readonly issuer?: string | undefined;
  /** The server sends `iss` on every authorization response, so a missing one is rejected (RFC 9207 §2.4). */
  readonly requireIss?: boolean | undefined;
  readonly clientAuth: ClientAuthentication;
  /**
   * The client authentication's registered name (RFC 7591 §2: `client_secret_basic`, `private_key_jwt`,
   * ...), where the profile's factory knows it (`discover()` sets it).
   */
  readonly clientAuthMethod?: string | undefined;
  /**
   * Another client authentication for the revocation or introspection endpoint, where the server's
   * metadata lists that endpoint's own methods without the profile's (`discover()` sets it from
   * `revocation_endpoint_auth_methods_supported`, `introspection_endpoint_auth_methods_supported`). One
   * that throws when none of them fits the client, so nothing is sent.
   */
  readonly endpointAuth?: Readonly<Partial<Record<'revocation' | 'introspection', ClientAuthentication>>> | undefined;
  readonly bodyEncoding: BodyEncoding;
  /** Scope requested when the caller names none. */
  readonly scope?: readonly string[] | undefined;
  /** How `scope` is joined on the wire and split in answers. RFC 6749 §3.3: a space. */
  readonly scopeSeparator: string;
  /** Lifetime in seconds assumed when an answer has no `expires_in` and the vendor documents one. */
  readonly defaultLifetime?: number | undefined;
  /** Smallest gap in milliseconds the vendor tolerates between two token requests. */
  readonly minInterval?: number | undefined;
  /**
   * The HTTP status the vendor answers a token request inside its minimum interval with. A token
   * source retries such an answer once, after the interval, before treating it as final.
   */
  readonly minIntervalStatus?: number | undefined;
  /**
   * Parameters (without client authentication) of the grant that gets a token from nothing:
   * `client_credentials`, `password`, or `refresh_token` with a long-lived refresh token.
   */
  readonly grant?: Readonly<Record<string, string>> | undefined;
  /** Maps a vendor's 2xx body to RFC 6749 §5.1 fields before they are checked. */
  readonly mapTokenBody?: ((body: unknown) => unknown) | undefined;
  /** Maps a vendor's error body; `undefined` falls back to RFC 6749 §5.2. */
  readonly mapErrorBody?: ((body: unknown, status: number) => OAuthErrorFields | undefined) | undefined;
  /** Credentials this profile holds; they are scrubbed from every error message. */
  readonly secrets: readonly string[];
  readonly fetch?: FetchLike | undefined;
  /** Milliseconds per request before `ERR_TIMEOUT`. */
  readonly timeout?: number | undefined;
  /** Largest answer body read, in bytes. */
  readonly maxResponseBytes?: number | undefined;
}

/**
 * Loopback host names: `localhost`, `127.0.0.1`, `[::1]`, and every `*.localhost` name, which RFC 6761
 * §6.3 reserves for loopback and browsers resolve to it without asking DNS (a Worker on
 * `edge.shop.localhost` beside a storefront on `shop.localhost` is the local model of a sibling host).
 */
const LOOPBACK = /^(?:127\.0\.0\.1|\[::1\]|(?:[a-z0-9-]+\.)*localhost)$/;

/**
 * Checks a configured endpoint: an absolute URL, `https:` except on loopback (RFC 6749 §3.1 and §3.2
 * ask for TLS), no credentials and no fragment.
 */
export function checkEndpoint(label: string, value: string): string {
  const url = absoluteUrl(value, ERR_INVALID_CONFIG, DEV ? `${label} is not an absolute URL` : label);
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname));
  if (!secure) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `${label} must use https: (http: only on loopback)` : `${label} https:`);
  if (url.username || url.password) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `${label} must not contain credentials` : `${label} credentials`);
  if (url.hash) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `${label} must not contain a fragment` : `${label} #`);
  return url.href;
}

/** `value` parsed as an absolute URL, or the typed error `code` with `message`, never the parser's TypeError. */
export function absoluteUrl(value: string | URL, code: ErrorCode, message: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new TokenGateError(code, message);
  }
}

/** Throws a clear configuration error unless `value` is one of the keys of `table` (an environment name, ...). */
export function requireKey<K extends string>(label: string, value: unknown, table: Readonly<Record<K, unknown>>): K {
  if (typeof value !== 'string' || !Object.hasOwn(table, value)) {
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `${label} must be one of ${Object.keys(table).join(', ')}` : label);
  }
  return value as K;
}

/** Throws a clear configuration error when a required string option is missing or empty. */
export function requireString(label: string, value: unknown): string {
  if (!value || typeof value !== 'string') {
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `${label} is required and must be a non-empty string` : label);
  }
  return value;
}

/** A scope as callers may give it: a string of scopes joined by the profile's separator, or a list. */
export type Scope = string | readonly string[];

/**
 * The list form of a scope option, checked for JavaScript callers: a string is split on `separator`
 * (blanks around each scope dropped), a list must hold non-empty strings without blanks or the
 * separator (RFC 6749 §3.3 scope-tokens). Anything else is `ERR_INVALID_CONFIG`, never a TypeError.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.3
 */
export function scopeList(value: unknown, separator = ' ', label = 'scope'): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? value.split(separator).map((item) => item.trim()).filter(Boolean) : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && /^\S+$/.test(item) && !item.includes(separator))) {
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `${label} must be a string of scopes or a list of scope strings` : label);
  }
  return [...(list as string[])];
}
