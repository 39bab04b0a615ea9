/**
 * What `/status` reports of one credential's history, kept in its Durable Object's storage: how many
 * token requests it made (client credentials, refreshes and code exchanges), its last error and its
 * last success. Storage, not memory, so the numbers read the same after the object is evicted or the
 * Worker restarts (an in-memory count went back to 0 with no call in between).
 *
 * One record per vendor in the object (`status:<vendor>` in its synchronous KV storage); the object
 * is already per credential (`app:<vendor>`, `session:<id>:<vendor>`), so a scope of its own (a
 * tenant's, say) comes with the object's name.
 */

/** The persisted numbers of one credential. */
export interface CredentialRecord {
  /** Token requests sent to the vendor since the credential was last reset. */
  tokenRequests: number;
  /** The last failure to get a token; cleared by the next success. */
  lastError?: { code: string; message: string; at: number };
  /** When the vendor last answered one of this credential's token requests with a token. */
  lastSuccess?: { at: number };
}

/** The storage a Durable Object's `ctx.storage.kv` gives: synchronous, so a count is never lost to a race. */
export interface RecordStorage {
  get<T>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): boolean;
}

export interface CredentialLedger {
  /** The record as stored (a copy). */
  read(): CredentialRecord;
  /** One token request is about to be sent. */
  tokenRequest(): void;
  /** A token was served: records a success if a request was made since the last one, and clears the last error. */
  success(at?: number): void;
  /** Getting a token failed. */
  failure(code: string, message: string, at?: number): void;
  /** Forgets the record (an operator reset). */
  clear(): void;
}

/** The storage key of a vendor's record. */
export const recordKey = (vendor: string): string => `status:${vendor}`;

/** The ledger of `vendor`'s credential in this object's storage. */
export function credentialLedger(storage: RecordStorage, vendor: string): CredentialLedger {
  const key = recordKey(vendor);
  // Whether a token request went out since the last recorded success: a token served from the cache
  // is not a new success and costs no write.
  let requested = false;
  const read = (): CredentialRecord => ({ tokenRequests: 0, ...storage.get<CredentialRecord>(key) });
  const write = (record: CredentialRecord): void => storage.put(key, record);
  return {
    read,
    tokenRequest() {
      const record = read();
      requested = true;
      write({ ...record, tokenRequests: record.tokenRequests + 1 });
    },
    success(at = Date.now()) {
      const record = read();
      if (!requested && record.lastError === undefined) return;
      const { lastError: _cleared, ...rest } = record;
      write(requested ? { ...rest, lastSuccess: { at } } : rest);
      requested = false;
    },
    failure(code, message, at = Date.now()) {
      write({ ...read(), lastError: { code, message, at } });
    },
    clear() {
      requested = false;
      storage.delete(key);
    },
  };
}
