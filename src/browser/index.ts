import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { TokenStore } from '../store.js';
import type { LockFn } from '../token-source.js';
import type { TokenSet } from '../types.js';

/**
 * A token store in IndexedDB (idb-keyval), shared by every tab of the origin. Values are stored as
 * structured clones, so tokens of any length survive.
 */
export function idbStore(options: { database?: string; objectStore?: string } = {}): TokenStore {
  const db: UseStore = createStore(options.database ?? 'tokengate', options.objectStore ?? 'tokens');
  return {
    get: (key) => get<TokenSet>(key, db),
    set: (key, tokens) => set(key, tokens, db),
    delete: (key) => del(key, db),
  };
}

/**
 * Cross-tab mutual exclusion over the Web Locks API: with it, tabs of one origin whose token expired
 * make one refresh, and the others read its result from the shared store.
 *
 * @see https://w3c.github.io/web-locks/
 */
export const webLock: LockFn = <T>(name: string, task: () => Promise<T>): Promise<T> =>
  navigator.locks.request(`tokengate:${name}`, () => task()) as Promise<T>;
