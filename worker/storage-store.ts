import type { TokenSet, TokenStore } from 'tokengate';
import { open, seal, type KeyRing } from './crypto.js';

/**
 * A token store in a Durable Object's own storage: strongly consistent, private to the object, and
 * sealed like KV values (AES-GCM, the storage key as additional data), so a storage dump holds no
 * token either. This is where refresh tokens live; they never go to KV.
 */
export function storageStore(storage: DurableObjectStorage, ring: KeyRing): TokenStore {
  return {
    async get(key) {
      const sealed = await storage.get<string>(key);
      if (typeof sealed !== 'string') return undefined;
      const text = await open(ring, key, sealed);
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as TokenSet;
      } catch {
        return undefined;
      }
    },
    async set(key, tokens) {
      await storage.put(key, await seal(ring, key, JSON.stringify(tokens)));
    },
    async delete(key) {
      await storage.delete(key);
    },
  };
}
