import { StoredMap, type SandboxStorage } from './storage.js';
import type { VendorName } from './types.js';

/** What a token stands for. `app`: issued to a client; `user`: issued for an Instacart or Shopware user. */
export interface TokenRecord {
  readonly vendor: VendorName;
  readonly kind: 'access' | 'refresh';
  readonly subject: 'app' | 'user';
  readonly clientId: string;
  /** Epoch ms after which the token is dead; undefined: until revoked. */
  readonly expiresAt: number | undefined;
  readonly scope?: string;
  /** The Instacart user a linked token belongs to. */
  readonly userId?: number;
  /** Tokens descending from one authorization code share it, so a replayed code can revoke them all. */
  readonly family?: string;
  /** For a refresh token: the access token issued with it (Shopware revokes it on refresh). */
  readonly accessToken?: string;
}

/** Every live token of the sandbox, by value. */
export interface TokenStore {
  /** Registers `value` as a token. */
  add(value: string, record: TokenRecord): void;
  /** The record of a live token of that vendor and kind at `now`, or undefined (unknown, expired, revoked). */
  find(value: string, vendor: VendorName, kind: TokenRecord['kind'], now: number): TokenRecord | undefined;
  /** Forgets one token (rotation). */
  remove(value: string): void;
  /** Forgets every token of a vendor (the `revoke` fault). */
  revokeVendor(vendor: VendorName): void;
  /** Forgets every token of an authorization-code family (a replayed code, RFC 6749 §4.1.2). */
  revokeFamily(family: string): void;
}

/**
 * The token store, kept in `storage` under `tok:`. Lookups are by exact value; the sandbox holds only its
 * own random tokens, so a Map lookup is fine here (the real vendors' timing is not something a sandbox
 * can teach).
 */
export function createTokenStore(storage: SandboxStorage): TokenStore {
  const tokens = new StoredMap<string, TokenRecord>(storage, 'tok:');
  const removeWhere = (predicate: (record: TokenRecord) => boolean): void => {
    for (const [value, record] of tokens) if (predicate(record)) tokens.delete(value);
  };
  return {
    add(value, record) {
      tokens.set(value, record);
    },
    find(value, vendor, kind, now) {
      const record = tokens.get(value);
      if (record === undefined || record.vendor !== vendor || record.kind !== kind) return undefined;
      if (record.expiresAt !== undefined && now >= record.expiresAt) return undefined;
      return record;
    },
    remove(value) {
      tokens.delete(value);
    },
    revokeVendor(vendor) {
      removeWhere((record) => record.vendor === vendor);
    },
    revokeFamily(family) {
      removeWhere((record) => record.family === family);
    },
  };
}
