import type { TokenSet } from './types.js';

/**
 * Where a token source keeps its token set. Async, and allowed to be stale (Workers KV is eventually
 * consistent): the token source re-checks what it reads.
 */
export interface TokenStore {
  get(key: string): Promise<TokenSet | undefined>;
  set(key: string, tokens: TokenSet): Promise<void>;
  delete(key: string): Promise<void>;
}

/** A store in this process's memory. Copies on the way in and out, so callers cannot mutate it. */
export function memoryStore(): TokenStore {
  const entries = new Map<string, TokenSet>();
  return {
    // structuredClone(undefined) is undefined: a missing key needs no branch of its own.
    get: async (key) => structuredClone(entries.get(key)),
    set: async (key, tokens) => {
      entries.set(key, structuredClone(tokens));
    },
    delete: async (key) => {
      entries.delete(key);
    },
  };
}
