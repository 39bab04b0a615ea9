import { DEV } from '#dev';
import { ERR_ABORTED, ERR_HTTP_STATUS, ERR_LINK_REQUIRED, ERR_NETWORK, ERR_TIMEOUT, isTokenGateError, TokenGateError, type OAuthError } from './errors.js';
import { profileGrant, refreshTokenGrant } from './grants.js';
import type { Profile } from './profile.js';
import { memoryStore, type TokenStore } from './store.js';
import type { FetchLike, TokenSet } from './types.js';

/** Runs `task` while holding the named lock; `tokengate/browser` offers one over Web Locks. */
export type LockFn = <T>(name: string, task: () => Promise<T>) => Promise<T>;

export interface TokenSourceOptions {
  /**
   * A token set the app already holds from account linking. Such a source only ever refreshes: it
   * never falls back to the profile's own grant, which would swap the user's token for the app's.
   */
  tokens?: TokenSet;
  /**
   * The tokens come from account linking: renew them only by refreshing, never with the profile's own
   * grant. Default: true when `tokens` is given. A server that reloads a linked set from its store
   * passes it explicitly.
   */
  linked?: boolean;
  /** Where tokens are kept across restarts and shared between instances. Default: {@link memoryStore}. */
  store?: TokenStore;
  /** The store key. Default: {@link storeKey} of the profile. */
  key?: string;
  /** A token is replaced this many ms before it expires (less for very short lifetimes). Default 30 000. */
  skew?: number;
  /** Tries after the first for network errors, timeouts, 5xx and 429. Default 2. */
  retries?: number;
  /**
   * Longest Retry-After (ms) of a 429 or 503 waited out; a longer one is not retried but passed to the
   * caller in the error's `retryAfter`. Default 30 000.
   */
  maxRetryAfter?: number;
  /**
   * When the previous token answer arrived (epoch ms), for a source that starts after a restart: the
   * profile's minimum interval counts from it. Persist what {@link onTokenAnswer} reports.
   */
  lastAnswerAt?: number;
  /**
   * Called with the arrival time (epoch ms) of every token answer and failure, the instant the next
   * request is paced from; a Durable Object persists it and passes it back as {@link lastAnswerAt}.
   */
  onTokenAnswer?: (at: number) => void;
  /** Cross-instance mutual exclusion (another tab, another isolate). Default: none. */
  lock?: LockFn;
  /** Called once when the refresh token is refused: the user must link the account again. */
  onLinkRequired?: (error: TokenGateError) => void;
  /** Called before every token request, for metrics. */
  onTokenRequest?: (grantType: string) => void;
  fetch?: FetchLike;
  /** Injectable clock (epoch ms). */
  now?: () => number;
  /** Injectable timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable randomness for backoff jitter, in [0, 1). */
  random?: () => number;
}

export interface GetTokenOptions {
  /**
   * Bounds this caller's wait: on abort the promise rejects with `ERR_ABORTED`. The shared request
   * goes on for the other callers and the cache.
   */
  signal?: AbortSignal;
}

export interface TokenSource {
  /** A valid access token: the cached one, or a new one from a single shared token request. */
  getToken(options?: GetTokenOptions): Promise<TokenSet>;
  /**
   * The cached token if it is valid now, synchronously; `undefined` when `getToken()` would have to
   * ask the server. Starts no request.
   */
  peek(): TokenSet | undefined;
  /**
   * Drops `accessToken` if it is still the current token (after a 401 with it). A late 401 carrying
   * an already replaced token changes nothing, so it never causes a second refresh.
   */
  invalidate(accessToken: string): void;
  /** Forgets the token set here and in the store (unlink). */
  clear(): Promise<void>;
}

/**
 * The default store key of a profile's tokens: `tokengate:<name>:<client id>@<token host>`, plus the
 * user of a password grant and each request parameter that changes the token a server issues (the
 * scope, in any order, and `resource` / `audience`), so two shops, two users or two scopes never
 * share an entry. Never a secret.
 */
export function storeKey(profile: Pick<Profile, 'name' | 'clientId' | 'tokenUrl' | 'grant' | 'scope'>): string {
  const grant = profile.grant ?? {};
  const scope = grant['scope']?.split(' ') ?? profile.scope;
  let key = `tokengate:${profile.name}:${profile.clientId}@${new URL(profile.tokenUrl).host}`;
  if (grant['username'] !== undefined) key += `:${grant['username']}`;
  for (const name of ['resource', 'audience']) if (grant[name] !== undefined) key += `;${name}=${grant[name]}`;
  return scope?.length ? `${key};scope=${[...scope].sort().join(' ')}` : key;
}

const DEFAULT_SKEW = 30_000;
const BASE_BACKOFF = 250;
const MAX_BACKOFF = 5_000;
/** After a failed background renewal, the still-valid token is served this long before trying again. */
const BACKGROUND_RETRY = 5_000;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Caches a profile's token and gets a new one when needed: single-flight (concurrent callers share one
 * request), refresh ahead of expiry while the old token is still served, the vendor's minimum interval
 * between requests, bounded retries with jittered backoff, Retry-After, and refresh-token rotation
 * that stores the new set before anyone uses it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
 */
export function createTokenSource(profile: Profile, options: TokenSourceOptions = {}): TokenSource {
  const store = options.store ?? memoryStore();
  const key = options.key ?? storeKey(profile);
  const skew = options.skew ?? DEFAULT_SKEW;
  const retries = options.retries ?? 2;
  const maxRetryAfter = options.maxRetryAfter ?? 30_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  const linked = options.linked ?? options.tokens !== undefined;
  let seeded = options.tokens !== undefined;
  /** The access token last invalidated: a store still holding it holds nothing usable. */
  let rejected: string | undefined;
  let flight: Promise<TokenSet> | undefined;
  /**
   * When the last token answer (or failure) arrived. A server that measures its minimum interval
   * between request arrivals saw our previous request before we saw its answer, so pacing from the
   * answer's arrival keeps every gap it measures at least the interval, however slow that answer was.
   */
  let lastAnswerAt = options.lastAnswerAt ?? -Infinity;

  // The hot path is one clock read and one comparison: the current set's deadlines are computed
  // once, when it is adopted, and the same settled promise is handed to every caller.
  let current: TokenSet | undefined;
  let served: Promise<TokenSet> | undefined;
  /** Served until this instant (epoch ms)… */
  let freshUntil = -Infinity;
  /** …and renewed in the background from this one… */
  let renewFrom = -Infinity;
  /** …but not again before this one after a background renewal failed. */
  let renewNotBefore = -Infinity;

  function adopt(tokens: TokenSet | undefined, obtainedAt: number = now()): void {
    current = tokens;
    served = tokens && Promise.resolve(tokens);
    // No set (or a rejected one) expires at -Infinity, one without expiry at Infinity: the one formula
    // below then gives both deadlines for every case.
    const expiresAt = tokens === undefined || tokens.accessToken === rejected ? -Infinity : (tokens.expiresAt ?? Infinity);
    // The skew, scaled down for short lifetimes so a 10 s token is not renewed forever. A set we did
    // not obtain ourselves counts its lifetime from now.
    const margin = Math.max(0, Math.min(skew, (expiresAt - obtainedAt) / 10));
    freshUntil = expiresAt - margin;
    renewFrom = expiresAt - 2 * margin;
  }
  adopt(options.tokens);

  /**
   * Whether a set read from the store is worth adopting. Its lifetime is unknown here (another tab or
   * isolate obtained it), so it needs a few seconds left, or the whole skew when that is shorter.
   */
  const usable = (tokens: TokenSet): boolean =>
    tokens.accessToken !== rejected && (tokens.expiresAt === undefined || tokens.expiresAt - now() > Math.min(skew, 5_000));

  async function load(): Promise<TokenSet | undefined> {
    const stored = await store.get(key);
    if (!seeded) return stored;
    seeded = false;
    // A stored set wins over the seed: it may hold a refresh token rotated since the app got the seed.
    if (stored !== undefined || current === undefined) return stored;
    await store.set(key, current);
    return current;
  }

  async function obtain(): Promise<TokenSet> {
    const stale = current?.accessToken;
    const fromStore = await load();
    // Another tab or isolate may have refreshed while we waited for the lock.
    if (fromStore !== undefined && fromStore.accessToken !== stale && usable(fromStore)) {
      adopt(fromStore);
      return fromStore;
    }
    const held = fromStore ?? current;
    const refreshToken = held?.refreshToken;
    if (refreshToken === undefined && linked) throw linkRequired();
    let [tokens, obtainedAt] = await renew(refreshToken);
    // RFC 6749 §6: a refresh answer without scope keeps the scope originally granted.
    if (tokens.scope === undefined && held?.scope !== undefined) tokens = { ...tokens, scope: held.scope };
    // Rotation (RFC 9700 §4.14.2): persist the new refresh token before the access token is used.
    await store.set(key, tokens);
    adopt(tokens, obtainedAt);
    return tokens;
  }

  /**
   * A refresh with `refreshToken`, else the profile's own grant. `invalid_grant` on a refresh (or a 400
   * or 401 without an OAuth error body) drops the set; a source that got its tokens with the profile's
   * own grant (Shopware's password grant) then starts over, a linked one must link again. A refused long-lived refresh token in the profile's
   * grant (Eshopbox's) means linking again too; other refusals of the own grant are passed on.
   */
  async function renew(refreshToken: string | undefined): Promise<Obtained> {
    try {
      return await request(
        () => (refreshToken !== undefined ? refreshTokenGrant(profile, refreshToken, requestOptions) : profileGrant(profile, requestOptions)),
        refreshToken !== undefined ? 'refresh_token' : ownGrant,
      );
    } catch (error) {
      // A refusal with no OAuth error body (400 or 401 and an empty body, as Glewlwyd answers a dead
      // refresh token) counts as invalid_grant: asked again, the server would refuse again.
      const refused = isTokenGateError(error) && (error.code === 'invalid_grant' || (error.code === ERR_HTTP_STATUS && error.status! < 402));
      if (!refused || (refreshToken === undefined && ownGrant !== 'refresh_token')) throw error;
      if (refreshToken !== undefined) adopt(undefined);
      await store.delete(key);
      if (refreshToken !== undefined && !linked && profile.grant !== undefined && ownGrant !== 'refresh_token') return renew(undefined);
      throw linkRequired(error);
    }
  }

  function linkRequired(cause?: TokenGateError | OAuthError): TokenGateError {
    const error = new TokenGateError(ERR_LINK_REQUIRED, DEV ? `The ${profile.name} tokens can no longer be renewed; the account must be linked again` : profile.name, {
      status: cause?.status,
      cause,
    });
    options.onLinkRequired?.(error);
    return error;
  }

  const ownGrant = profile.grant?.['grant_type'] ?? 'client_credentials';
  const requestOptions: { fetch?: FetchLike; now: () => number } = options.fetch ? { fetch: options.fetch, now } : { now };

  /**
   * One token request with the vendor's pacing, bounded retries and backoff.
   *
   * The status the vendor answers inside its minimum interval (instellix: 401) is retried once, after
   * the interval, when it comes within twice the interval of the previous answer: near the window's
   * edge the server may count differently (its clock's resolution, its front end's arrival time, a
   * request of ours it saw late). Further off, or with no previous request known, it is final: then it
   * is about the credentials.
   */
  async function request(send: () => Promise<TokenSet>, grantType: string): Promise<Obtained> {
    const interval = profile.minInterval ?? 0;
    // One loop for the request and every retry: the pacing at its top also spaces the window retry.
    for (let attempt = 0, windowRetried = false; ; ) {
      const wait = lastAnswerAt + interval - now();
      if (wait > 0) await sleep(wait);
      const previous = lastAnswerAt;
      options.onTokenRequest?.(grantType);
      try {
        const tokens = await send();
        return [tokens, answered()];
      } catch (error) {
        answered();
        if (!windowRetried && (error as TokenGateError).status === profile.minIntervalStatus && lastAnswerAt - previous < 2 * interval) {
          windowRetried = true;
          continue;
        }
        // Only tokengate's own errors say whether a retry can help; anything else is a bug to surface.
        if (attempt >= retries || !isTokenGateError(error)) throw error;
        const { code, status, retryAfter } = error;
        // RFC 9110 §10.2.3: Retry-After on 429 and on 503 alike; a longer one than allowed goes to the caller.
        if (status === 429 || (status === 503 && retryAfter !== undefined)) {
          if (!(retryAfter! <= maxRetryAfter)) throw error;
          await sleep(retryAfter!);
        } else if (code === ERR_NETWORK || code === ERR_TIMEOUT || status! >= 500) {
          await sleep(Math.floor(random() * Math.min(MAX_BACKOFF, BASE_BACKOFF * 2 ** attempt)));
        } else {
          throw error;
        }
        attempt++;
      }
    }
  }

  /** Records when an answer (or failure) arrived, and answers that instant. */
  function answered(): number {
    lastAnswerAt = now();
    options.onTokenAnswer?.(lastAnswerAt);
    return lastAnswerAt;
  }

  /** The shared promise, with this caller's wait bounded by its signal. */
  function bounded(task: Promise<TokenSet>, signal: AbortSignal | undefined): Promise<TokenSet> {
    if (signal === undefined) return task;
    return new Promise((resolve, reject) => {
      const abort = (): void => reject(new TokenGateError(ERR_ABORTED, DEV ? `Waiting for the ${profile.name} token was aborted` : profile.name, { cause: signal.reason }));
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      // After an abort, settling is a no-op; the handler still marks the task as handled.
      task.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
    });
  }

  function start(): Promise<TokenSet> {
    flight ??= (options.lock ? options.lock(key, obtain) : obtain()).finally(() => {
      flight = undefined;
    });
    return flight;
  }

  return {
    getToken(getOptions) {
      const t = now();
      if (t < freshUntil) {
        // Inside the refresh-ahead window: serve this token, renew in the background.
        if (t >= renewFrom && t >= renewNotBefore && flight === undefined) {
          start().catch(() => {
            renewNotBefore = now() + BACKGROUND_RETRY;
          });
        }
        return served!;
      }
      return bounded(start(), getOptions?.signal);
    },
    peek() {
      return now() < freshUntil ? current : undefined;
    },
    invalidate(accessToken) {
      if (current?.accessToken !== accessToken) return;
      rejected = accessToken;
      freshUntil = renewFrom = -Infinity;
    },
    async clear() {
      adopt(undefined);
      seeded = false;
      await store.delete(key);
    },
  };
}

/** A token set and when it arrived, to scale the skew to its lifetime. */
type Obtained = [tokens: TokenSet, obtainedAt: number];
