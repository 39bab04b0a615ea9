/**
 * Where the sandbox keeps what it remembers. The sandbox Worker passes its Durable Object's synchronous
 * SQLite key-value storage (`ctx.storage.kv`), so faults, revocations, issued codes and tokens and the
 * counters survive an evicted object or a restarted `wrangler dev`; tests of the handlers use
 * {@link memoryStorage}. The interface is the part of Cloudflare's `SyncKvStorage` the sandbox needs,
 * so the handlers stay synchronous.
 *
 * @module
 */

/** A synchronous key-value store of structured-cloneable values. */
export interface SandboxStorage {
  get<T = unknown>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): boolean;
  list<T = unknown>(options?: { prefix?: string }): Iterable<[string, T]>;
}

/** A store that lives as long as the object holding it (tests, or a sandbox without a Durable Object). */
export function memoryStorage(): SandboxStorage {
  const entries = new Map<string, unknown>();
  return {
    get: <T>(key: string) => entries.get(key) as T | undefined,
    put: (key, value) => void entries.set(key, structuredClone(value)),
    delete: (key) => entries.delete(key),
    *list<T>(options: { prefix?: string } = {}) {
      const prefix = options.prefix ?? '';
      for (const [key, value] of entries) if (key.startsWith(prefix)) yield [key, value as T] as [string, T];
    },
  };
}

/** Deletes every key under `prefix` ('' for all). */
export function deleteAll(storage: SandboxStorage, prefix = ''): void {
  for (const [key] of [...storage.list({ prefix })]) storage.delete(key);
}

/**
 * A Map that writes every change through to `storage` under `prefix` and starts with what is stored
 * there. Keys are JSON-encoded (the sandbox has string and number keys). Values must not be changed in
 * place: `set` them again.
 */
export class StoredMap<K, V> extends Map<K, V> {
  readonly #storage: SandboxStorage | undefined;
  readonly #prefix: string;

  constructor(storage: SandboxStorage, prefix: string) {
    super();
    for (const [key, value] of storage.list<V>({ prefix })) super.set(JSON.parse(key.slice(prefix.length)) as K, value);
    this.#storage = storage;
    this.#prefix = prefix;
  }

  override set(key: K, value: V): this {
    this.#storage?.put(this.#prefix + JSON.stringify(key), value);
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    this.#storage?.delete(this.#prefix + JSON.stringify(key));
    return super.delete(key);
  }

  override clear(): void {
    if (this.#storage !== undefined) deleteAll(this.#storage, this.#prefix);
    super.clear();
  }
}
