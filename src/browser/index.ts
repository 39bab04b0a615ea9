import { createStore, del, get, set, update, type UseStore } from 'idb-keyval';
import { generateDpopKeyPair } from '../dpop.js';
import type { TokenStore } from '../store.js';
import type { LockFn } from '../token-source.js';
import type { TokenSet, WebCryptoKeyPair } from '../types.js';

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

/**
 * The DPoP key pair named `name` (use the token source's store key), from IndexedDB, made and kept
 * there on first use. IndexedDB keeps the CryptoKey objects themselves, so the key survives a reload
 * while its private half stays non-extractable. Two tabs that start at once end up with the same key:
 * the first one written wins, in one transaction.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-2
 */
export async function loadDpopKeyPair(name: string, options: { database?: string; objectStore?: string } = {}): Promise<WebCryptoKeyPair> {
  const db: UseStore = createStore(options.database ?? 'tokengate-dpop', options.objectStore ?? 'keys');
  const stored = await get<WebCryptoKeyPair>(name, db);
  if (stored !== undefined) return stored;
  const made = await generateDpopKeyPair();
  await update<WebCryptoKeyPair>(name, (existing) => existing ?? made, db);
  return (await get<WebCryptoKeyPair>(name, db))!;
}

/** Forgets the DPoP key pair named `name` (unlink: tokens bound to it are useless now). */
export function deleteDpopKeyPair(name: string, options: { database?: string; objectStore?: string } = {}): Promise<void> {
  return del(name, createStore(options.database ?? 'tokengate-dpop', options.objectStore ?? 'keys'));
}
