import type { VendorRuntime } from './config.js';
import type { KeyRing } from './crypto.js';
import { log } from './log.js';
import { storageStore } from './storage-store.js';

/**
 * Tokens are served only while the credential they were minted from is the configured one. Each
 * vendor's secrets (client secret, app refresh token, private key) are hashed; the hash is kept beside
 * the tokens in the credential's Durable Object and sealed into the additional data of the KV copy.
 * After a secret changes (a new `.dev.vars` and a restart, `wrangler secret put`), the next call finds
 * a different hash: the app credential's tokens are dropped and a linked account's access token is
 * expired (its refresh token is kept and tried with the new secret), so the new secret is used, and
 * refused if wrong, at once instead of when the old token expires.
 */

const hashes = new WeakMap<VendorRuntime, Promise<string>>();

/** SHA-256 of a vendor's secret values, base64 (never the values): the same secrets give the same hash. */
export function credentialHash(vendor: VendorRuntime): Promise<string> {
  let hash = hashes.get(vendor);
  if (hash === undefined) {
    hash = crypto.subtle
      .digest('SHA-256', new TextEncoder().encode(`tokengate-credential:${vendor.credential}`))
      .then((digest) => btoa(String.fromCharCode(...new Uint8Array(digest))));
    hashes.set(vendor, hash);
  }
  return hash;
}

/** The storage key of the hash of the credential a Durable Object's tokens of `vendor` were minted from. */
export const bindingKey = (vendor: string): string => `credential:${vendor}`;

/**
 * Makes the tokens this object holds for `vendor` those of the configured credential: when they were
 * minted from other secrets, an app credential's set is deleted and a linked account's access token is
 * expired. Answers whether the credential changed. No record yet (tokens kept from before this check
 * existed, or none at all): the configured credential is recorded as theirs.
 */
export async function bindStoredTokens(storage: DurableObjectStorage, ring: KeyRing, vendor: VendorRuntime, linked: boolean): Promise<boolean> {
  const hash = await credentialHash(vendor);
  const key = bindingKey(vendor.name);
  const bound = storage.kv.get<string>(key);
  if (bound === hash) return false;
  if (bound !== undefined) {
    const store = storageStore(storage, ring);
    const tokensKey = `tokens:${vendor.name}`;
    const tokens = linked ? await store.get(tokensKey) : undefined;
    // Dropped before the new hash is recorded: a crash in between drops them again, never keeps them.
    if (tokens?.refreshToken !== undefined) await store.set(tokensKey, { ...tokens, expiresAt: 0 });
    else await store.delete(tokensKey);
  }
  storage.kv.put(key, hash);
  return bound !== undefined;
}

/** The vendor refused the client's authentication: the secret is what to check (RFC 6749 §5.2). */
const CLIENT_REFUSED = new Set(['invalid_client', 'unauthorized_client']);

/**
 * A log line naming the Worker secrets to check (binding names, never values) when the vendor refused
 * the credential: its client authentication, or the app's long-lived refresh token (`app` only; a
 * linked account's refused refresh token is the shopper's to fix by linking again).
 */
export function logRefusedCredential(vendor: VendorRuntime, code: string, app: boolean): void {
  if (!CLIENT_REFUSED.has(code) && !(app && code === 'ERR_LINK_REQUIRED')) return;
  log({ at: 'credential', vendor: vendor.name, outcome: code, check: vendor.secretNames.join(', ') || 'the vendor options (no secret is configured)' });
}
