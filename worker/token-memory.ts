import type { IssuedToken } from './coordinator.js';

/** An isolate's in-memory access tokens, bounded: the least recently used beyond `max` are dropped. */
export interface TokenMemory {
  get(key: string): IssuedToken | undefined;
  set(key: string, token: IssuedToken): void;
  delete(key: string): void;
  readonly size: number;
}

/** Tokens an isolate keeps in memory at most (an isolate has 128 MB; a token set is well under 4 KB). */
export const TOKEN_MEMORY_MAX = 1000;

/**
 * A least-recently-used map of access tokens holding at most `max`, so a flood of credentials cannot
 * grow an isolate without bound. A dropped token costs only a KV read the next time.
 */
export function createTokenMemory(max: number = TOKEN_MEMORY_MAX): TokenMemory {
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('Token memory max must be a positive integer');
  // Map keeps insertion order; re-inserting on every use makes the first key the least recently used.
  const entries = new Map<string, IssuedToken>();
  return {
    get size(): number {
      return entries.size;
    },
    get(key) {
      const token = entries.get(key);
      if (token !== undefined) {
        entries.delete(key);
        entries.set(key, token);
      }
      return token;
    },
    set(key, token) {
      entries.delete(key);
      entries.set(key, token);
      while (entries.size > max) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
    },
    delete(key) {
      entries.delete(key);
    },
  };
}
