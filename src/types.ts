/**
 * A normalized token answer. Wire fields keep the vendor's names; this is the camelCase shape every
 * profile maps into.
 */
export interface TokenSet {
  accessToken: string;
  /** `Bearer` for bearer tokens whatever case the server used; other types as sent. */
  tokenType: string;
  /** Epoch milliseconds, computed from local receipt time and `expires_in` (or the profile's default lifetime). */
  expiresAt?: number;
  refreshToken?: string;
  scope?: string[];
}

/** The `fetch` signature tokengate calls. Inject one to test, to add tracing or to run where there is no global. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Per-request options every network call accepts. */
export interface RequestOptions {
  /** Aborts the request; the promise then rejects with `ERR_ABORTED`. */
  signal?: AbortSignal;
  /** Overrides the profile's fetch. */
  fetch?: FetchLike;
  /** Milliseconds before the request fails with `ERR_TIMEOUT`. Default: the profile's, else 10 000. */
  timeout?: number;
  /** The clock used for `expiresAt` (epoch ms). Default `Date.now`. */
  now?: () => number;
}

/**
 * A WebCrypto key as tokengate's API shows it: the members of `CryptoKey` that the DOM's, Node's and
 * Workers' types share, so a consumer whose `lib` has no WebCrypto types (ES2022 + @types/node) still
 * compiles. Any runtime's `CryptoKey` is one; cast back to pass it to `crypto.subtle` yourself.
 */
export interface WebCryptoKey {
  readonly type: string;
  readonly extractable: boolean;
  readonly algorithm: { readonly name: string };
  readonly usages: readonly string[];
}

/** A WebCrypto key pair (`CryptoKeyPair`), typed like {@link WebCryptoKey}. */
export interface WebCryptoKeyPair {
  readonly publicKey: WebCryptoKey;
  readonly privateKey: WebCryptoKey;
}

/** The JSON Web Key members tokengate reads or writes (RFC 7517, RFC 7518 §6). */
export interface Jwk {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  ext?: boolean;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
}
