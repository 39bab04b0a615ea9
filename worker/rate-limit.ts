export interface RateLimiterOptions {
  /** Tokens a full bucket holds: the burst a key may make at once. */
  readonly capacity: number;
  /** Tokens added per second: the sustained rate. */
  readonly refillPerSecond: number;
  /** Clock in epoch milliseconds; injected by tests. Default `Date.now`. */
  readonly now?: () => number;
  /** Keys kept at most; the least recently used beyond it are forgotten. Default 10,000. */
  readonly maxKeys?: number;
}

/** `remaining` is the whole tokens left; `retryAfter` is whole seconds (≥ 1) until `cost` tokens are back. */
export type RateLimitResult = { readonly ok: true; readonly remaining: number } | { readonly ok: false; readonly retryAfter: number };

export interface RateLimiter {
  /** Takes `cost` (default 1) tokens from `key`'s bucket, or takes nothing and says when to come back. */
  take(key: string, cost?: number): RateLimitResult;
  /** Keys currently held; never more than `maxKeys`. */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`Rate limiter ${name} must be a positive number`);
  return value;
}

/**
 * A token bucket per key (per caller, per vendor: the key says which), for SECURITY row 14.
 *
 * Per isolate, so approximate globally: each Workers isolate keeps its own buckets, and a caller whose
 * requests land on several isolates or locations gets up to that many times the rate. That is
 * acceptable because this limiter is an abuse shield at the edge (it stops one client hammering the
 * Worker and, through it, burning the Worker's vendor quota), not the quota itself: the vendor enforces
 * its own limits, and the proxy passes the vendor's 429 and `Retry-After` on unchanged. A global limit
 * would need a Durable Object round trip on every call.
 *
 * Memory is bounded: at most `maxKeys` buckets, the least recently used forgotten first (a forgotten
 * key starts again with a full bucket, which only ever errs towards letting a quiet key through).
 * A bucket is refilled lazily when its key is next seen; nothing runs in the background.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const capacity = positive('capacity', options.capacity);
  const refillPerSecond = positive('refillPerSecond', options.refillPerSecond);
  const maxKeys = options.maxKeys ?? 10_000;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError('Rate limiter maxKeys must be a positive integer');
  const now = options.now ?? Date.now;
  // Map keeps insertion order; re-inserting on every use makes the first key the least recently used.
  const buckets = new Map<string, Bucket>();

  return {
    get size(): number {
      return buckets.size;
    },
    take(key: string, cost = 1): RateLimitResult {
      if (!Number.isFinite(cost) || cost <= 0 || cost > capacity) {
        throw new RangeError('Rate limiter cost must be a positive number no larger than the capacity');
      }
      const time = now();
      const bucket = buckets.get(key) ?? { tokens: capacity, updatedAt: time };
      // A clock that steps back refills nothing rather than draining the bucket.
      const elapsed = Math.max(0, time - bucket.updatedAt) / 1000;
      bucket.tokens = Math.min(capacity, bucket.tokens + elapsed * refillPerSecond);
      bucket.updatedAt = Math.max(bucket.updatedAt, time);
      buckets.delete(key);
      buckets.set(key, bucket);
      while (buckets.size > maxKeys) {
        const oldest = buckets.keys().next();
        if (oldest.done === true) break;
        buckets.delete(oldest.value);
      }
      if (bucket.tokens >= cost) {
        bucket.tokens -= cost;
        return { ok: true, remaining: Math.floor(bucket.tokens) };
      }
      return { ok: false, retryAfter: Math.max(1, Math.ceil((cost - bucket.tokens) / refillPerSecond)) };
    },
  };
}
