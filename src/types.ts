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
