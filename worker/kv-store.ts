import type { TokenSet, TokenStore } from 'tokengate';
import * as v from 'valibot';
import { open, seal, type KeyRing } from './crypto.js';

/**
 * The three calls this store makes on a Workers KV namespace. Structural, so a `KVNamespace` binding
 * fits as is and tests can pass a recorder.
 */
export interface KvLike {
  get(key: string, type: 'text'): Promise<string | null>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface KvTokenStoreOptions {
  /** Put before every key name (e.g. two deployments sharing one namespace). Part of the sealed value's additional data. Default `''`. */
  prefix?: string;
  /** The clock, epoch ms. Default `Date.now`. */
  now?: () => number;
  /**
   * Seconds KV keeps a value past its `expiresAt`. Default 0: an expired value reads as a miss anyway,
   * so keeping it longer only costs storage.
   */
  graceSeconds?: number;
  /**
   * Sealed into the additional data with the key name, not stored: a value sealed with another
   * context reads as a miss. The Worker passes the hash of the credential a token was minted from
   * (worker/credential-binding.ts), so a copy minted from an old secret is never served.
   */
  context?: string;
}

/** KV refuses an `expirationTtl` under 60 seconds. */
export const KV_MIN_TTL_SECONDS = 60;
/** A set without `expiresAt` still leaves KV after a day: nothing lives there forever. */
export const KV_NO_EXPIRY_TTL_SECONDS: number = 24 * 60 * 60;

/** What a KV value holds once opened: an access token, never a refresh token. */
const StoredTokens = v.object({
  accessToken: v.pipe(v.string(), v.nonEmpty()),
  tokenType: v.pipe(v.string(), v.nonEmpty()),
  expiresAt: v.exactOptional(v.pipe(v.number(), v.finite())),
  scope: v.exactOptional(v.array(v.string())),
});

/** The access-token part of a set: refresh tokens live only in Durable Object storage. */
function accessPart(tokens: TokenSet): TokenSet {
  return {
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }),
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
  };
}

/**
 * A {@link TokenStore} over Workers KV whose values are sealed with `ring` (AES-GCM-256, the full KV
 * key name as additional data; see worker/crypto.ts and docs/kv-key-schema.md).
 *
 * - `set` stores the access token, its type, expiry and scope, and drops any refresh token: refresh
 *   tokens never go to KV. The TTL is `max(60, ceil((expiresAt - now) / 1000) + graceSeconds)`, or a
 *   day for a set without `expiresAt`.
 * - `get` answers `undefined` for a missing value and for one that does not open (another key name,
 *   a changed character, an unknown key id), is not JSON of the expected shape, or has expired.
 *   Errors of KV itself are passed on.
 *
 * KV is eventually consistent and takes about one write per second per key: a read may be stale for
 * up to a minute, or miss a value another location just wrote. So the credential's Durable Object is
 * the only writer, and readers treat what they get as a hint they re-check (expiry, an upstream 401).
 *
 * @throws {RangeError} when `graceSeconds` is negative or not finite.
 * @see https://developers.cloudflare.com/kv/concepts/how-kv-works/ (eventual consistency, write rate)
 * @see https://developers.cloudflare.com/kv/api/write-key-value-pairs/ (`expirationTtl`, at least 60)
 */
export function kvTokenStore(kv: KvLike, ring: KeyRing, options: KvTokenStoreOptions = {}): TokenStore {
  const prefix = options.prefix ?? '';
  const now = options.now ?? Date.now;
  const grace = options.graceSeconds ?? 0;
  const additional = (name: string): string => (options.context === undefined ? name : `${name}\n${options.context}`);
  if (!Number.isFinite(grace) || grace < 0) throw new RangeError('kvTokenStore: graceSeconds must be a finite number ≥ 0');

  const ttlOf = (tokens: TokenSet): number => {
    const { expiresAt } = tokens;
    if (expiresAt === undefined || !Number.isFinite(expiresAt)) return KV_NO_EXPIRY_TTL_SECONDS;
    return Math.max(KV_MIN_TTL_SECONDS, Math.ceil((expiresAt - now()) / 1000 + grace));
  };

  return {
    async get(key) {
      const name = prefix + key;
      const sealed = await kv.get(name, 'text');
      if (sealed === null) return undefined;
      const text = await open(ring, additional(name), sealed);
      if (text === undefined) return undefined;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return undefined;
      }
      const parsed = v.safeParse(StoredTokens, value);
      if (!parsed.success) return undefined;
      const tokens = parsed.output;
      return tokens.expiresAt !== undefined && tokens.expiresAt <= now() ? undefined : tokens;
    },
    async set(key, tokens) {
      const name = prefix + key;
      await kv.put(name, await seal(ring, additional(name), JSON.stringify(accessPart(tokens))), { expirationTtl: ttlOf(tokens) });
    },
    async delete(key) {
      await kv.delete(prefix + key);
    },
  };
}
