/**
 * AES-GCM-256 sealing for everything the Worker stores: KV values and Durable Object storage
 * (SECURITY.md row 16; docs/kv-key-schema.md).
 *
 * A sealed value is `v1.<kid>.<base64url iv>.<base64url ciphertext+tag>`: a fresh random 96-bit IV per
 * seal, and the storage key's name as additional authenticated data, so a value copied under another
 * name, a changed character or an unknown key id all read as a miss. Keys come from the Worker secret
 * `TOKENGATE_KEYS`, `kid:base64url(32 bytes)` entries separated by commas: the first one seals, every
 * one opens, which is how keys rotate.
 *
 * WebCrypto only, so the same code runs in workerd, Node and browsers.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5116#section-2 (AEAD: the additional data is authenticated, not stored)
 * @see https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38d.pdf (GCM, §8.2.2 random IVs)
 */

/** The Worker secret the key ring comes from; every parse error names it. */
const SECRET = 'TOKENGATE_KEYS';
/** The format version: the first field of every sealed value. */
const VERSION = 'v1';
const KID = /^[A-Za-z0-9_-]{1,16}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
/** GCM's authentication tag: the shortest ciphertext (an empty plaintext) is this long. */
const TAG_BYTES = 16;

/**
 * A parsed `TOKENGATE_KEYS`: which key seals and which keys open. The object itself holds no key
 * material (logging it or serializing it shows only key ids): the keys sit in a module-private map
 * and are imported on first use as non-extractable `CryptoKey`s, once per ring.
 */
export interface KeyRing {
  /** The key id new values are sealed with: the secret's first entry. */
  readonly current: string;
  /** Every key id this ring opens, in the secret's order (current first). */
  readonly kids: readonly string[];
}

/** Per ring: each key id's raw bytes until first use, then the import (raw bytes dropped). */
const material = new WeakMap<KeyRing, Map<string, Uint8Array<ArrayBuffer> | Promise<CryptoKey>>>();

const utf8 = new TextEncoder();
/** Exact round trip: a leading U+FEFF of the plaintext is kept, not taken for a byte-order mark. */
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function toBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Strict base64url: the URL-safe alphabet, no padding, and canonical (re-encoding gives the same text),
 * so two different strings never decode to the same bytes and every changed character is noticed.
 */
function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  let binary: string;
  try {
    binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  } catch {
    return undefined;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return toBase64url(bytes) === text ? bytes : undefined;
}

/**
 * Parses the `TOKENGATE_KEYS` secret: `kid:base64url(32 bytes)[,kid:base64url(32 bytes)...]`, newest
 * first. Whitespace around entries (a pasted trailing newline) is ignored.
 *
 * @throws {Error} naming `TOKENGATE_KEYS`, the entry's position and what is wrong with it (no key, a key
 * id outside `[A-Za-z0-9_-]{1,16}`, a key that is not base64url of exactly 32 bytes, a repeated key id).
 * Messages never contain key material, nor a malformed key id (it may be a misplaced key).
 */
export function parseKeyRing(secret: string): KeyRing {
  const entries = secret
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) {
    throw new Error(`${SECRET} holds no key: expected kid:base64url(32 bytes), comma-separated, the current key first`);
  }
  const keys = new Map<string, Uint8Array<ArrayBuffer> | Promise<CryptoKey>>();
  const position = new Map<string, number>();
  entries.forEach((entry, index) => {
    const n = index + 1;
    const colon = entry.indexOf(':');
    if (colon === -1) throw new Error(`${SECRET} entry ${n} has no key id: expected kid:base64url(32 bytes)`);
    const kid = entry.slice(0, colon);
    if (!KID.test(kid)) throw new Error(`${SECRET} entry ${n}: the key id must be 1 to 16 characters of A-Z a-z 0-9 _ -`);
    const first = position.get(kid);
    if (first !== undefined) throw new Error(`${SECRET} entries ${first} and ${n} both use the key id "${kid}": key ids must be unique`);
    const raw = fromBase64url(entry.slice(colon + 1));
    if (raw === undefined) {
      throw new Error(`${SECRET} entry ${n} (key id "${kid}"): the key is not base64url (A-Z a-z 0-9 - _, no padding)`);
    }
    if (raw.length !== KEY_BYTES) {
      throw new Error(`${SECRET} entry ${n} (key id "${kid}"): the key is ${raw.length} bytes; AES-256 needs exactly ${KEY_BYTES}`);
    }
    keys.set(kid, raw);
    position.set(kid, n);
  });
  const kids = Object.freeze([...keys.keys()]);
  const ring: KeyRing = Object.freeze({ current: kids[0]!, kids });
  material.set(ring, keys);
  nameMaterial.set(ring, keys.get(kids[kids.length - 1]!) as Uint8Array<ArrayBuffer>);
  return ring;
}

/** Per ring: the oldest key's raw bytes until the naming key is derived from them, then that key. */
const nameMaterial = new WeakMap<KeyRing, Uint8Array<ArrayBuffer> | Promise<CryptoKey>>();

/**
 * The ring's HMAC-SHA-256 key for naming stored things by a keyed hash (Durable Objects of linked
 * sessions), derived with HKDF (RFC 5869) from the ring's oldest key, the last entry: new keys go
 * first, so a rotation that keeps the old keys keeps every name. Removing the oldest key changes the
 * names (worker/object-names.ts says what that means).
 *
 * @throws {TypeError} when `ring` did not come from {@link parseKeyRing}.
 * @see https://www.rfc-editor.org/rfc/rfc5869
 */
export function namingKey(ring: KeyRing): Promise<CryptoKey> {
  const entry = nameMaterial.get(ring);
  if (entry === undefined) throw new TypeError('namingKey() needs a key ring made by parseKeyRing()');
  if (!(entry instanceof Uint8Array)) return entry;
  const derived = crypto.subtle
    .importKey('raw', entry, 'HKDF', false, ['deriveKey'])
    .then((base) =>
      crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: utf8.encode('tokengate object names v1') },
        base,
        { name: 'HMAC', hash: 'SHA-256', length: 256 },
        false,
        ['sign'],
      ),
    );
  nameMaterial.set(ring, derived);
  return derived;
}

/** HMAC-SHA-256 of `text` under the ring's {@link namingKey}, base64url. */
export async function keyedName(ring: KeyRing, text: string): Promise<string> {
  return toBase64url(new Uint8Array(await crypto.subtle.sign('HMAC', await namingKey(ring), utf8.encode(text))));
}

/** The ring's key `kid`, imported on first use; `undefined` when the ring has no such key. */
function keyOf(ring: KeyRing, kid: string): Promise<CryptoKey> | undefined {
  const keys = material.get(ring);
  const entry = keys?.get(kid);
  if (keys === undefined || entry === undefined) return undefined;
  if (!(entry instanceof Uint8Array)) return entry;
  // Old keys only ever open: they are imported for decryption alone.
  const usages: Array<'encrypt' | 'decrypt'> = kid === ring.current ? ['encrypt', 'decrypt'] : ['decrypt'];
  const imported = crypto.subtle.importKey('raw', entry, { name: 'AES-GCM' }, false, usages);
  keys.set(kid, imported);
  return imported;
}

/**
 * A new `TOKENGATE_KEYS` entry with one fresh random key, for set-up, rotation and tests. To rotate,
 * put the new entry first and keep the old ones: `${generateKeyRingSecret('k2')},${current}`.
 *
 * @throws {Error} when `kid` is not 1 to 16 characters of `[A-Za-z0-9_-]`.
 */
export function generateKeyRingSecret(kid: string = 'k1'): string {
  if (!KID.test(kid)) throw new Error(`${SECRET}: the key id must be 1 to 16 characters of A-Z a-z 0-9 _ -`);
  return `${kid}:${toBase64url(crypto.getRandomValues(new Uint8Array(KEY_BYTES)))}`;
}

/**
 * Seals `plaintext` for storage under the key name `name` with the ring's current key.
 *
 * @returns `v1.<kid>.<base64url iv>.<base64url ciphertext+tag>`; a different string on every call.
 * @throws {TypeError} when `ring` did not come from {@link parseKeyRing}.
 */
export async function seal(ring: KeyRing, name: string, plaintext: string): Promise<string> {
  const key = keyOf(ring, ring.current);
  if (key === undefined) throw new TypeError('seal() needs a key ring made by parseKeyRing()');
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8.encode(name) }, await key, utf8.encode(plaintext));
  return `${VERSION}.${ring.current}.${toBase64url(iv)}.${toBase64url(new Uint8Array(sealed))}`;
}

/**
 * Opens a value that was sealed for the key name `name`.
 *
 * @returns the plaintext, or `undefined` (never a throw) for anything that is not an intact value
 * sealed by a key of this ring for this name: another format or version, an unknown key id, a value
 * moved from another name, any changed character.
 */
export async function open(ring: KeyRing, name: string, sealed: string): Promise<string | undefined> {
  if (typeof sealed !== 'string') return undefined;
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
  const key = keyOf(ring, parts[1]!);
  const iv = fromBase64url(parts[2]!);
  const data = fromBase64url(parts[3]!);
  if (key === undefined || iv?.length !== IV_BYTES || data === undefined || data.length < TAG_BYTES) return undefined;
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: utf8.encode(name) }, await key, data);
    return utf8Decoder.decode(plain);
  } catch {
    return undefined;
  }
}
