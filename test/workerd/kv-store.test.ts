/**
 * docs/security.md row 16, inside workerd: KV values are sealed with AES-GCM-256 from the TOKENGATE_KEYS
 * secret, with a random IV, the KV key name as additional data and a key id for rotation. Raw KV holds
 * no canary; a changed character, a value moved to another key or an unknown key id reads as a miss.
 * The KV tests use the project's real (Miniflare) `TOKENS` namespace; TTLs are read off a recorder.
 */
// @ts-ignore -- tsconfig.test.json has no Workers types; @cloudflare/vitest-plugin provides this module in workerd.
import { env } from 'cloudflare:workers';
import type { TokenSet } from 'tokengate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateKeyRingSecret, open, parseKeyRing, seal, type KeyRing } from '../../worker/crypto.js';
import { KV_MIN_TTL_SECONDS, KV_NO_EXPIRY_TTL_SECONDS, kvTokenStore, type KvLike } from '../../worker/kv-store.js';

const kv = (env as { TOKENS: KvLike }).TOKENS;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SEALED = /^v1\.([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)$/;
const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);

const OLD = generateKeyRingSecret('k1');
const NEW = generateKeyRingSecret('k2');
const ring = parseKeyRing(OLD);

let serial = 0;
/** A fresh KV key per test: the namespace is shared by the whole file. */
const keyName = (label: string): string => `tok:test:${label}:${++serial}`;

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function toBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The stored text, and every dot-separated part decoded from base64url (as Latin-1 and as UTF-8). */
function everyReading(raw: string): string[] {
  const readings = [raw];
  for (const part of raw.split('.')) {
    try {
      const bytes = fromBase64url(part);
      readings.push(String.fromCharCode(...bytes), new TextDecoder().decode(bytes));
    } catch {
      // not base64url: the raw text above covers it
    }
  }
  return readings;
}

/** Every 8-character window of `secret`: a message holding any of them leaks key material. */
function windows(secret: string): string[] {
  const material = secret.slice(secret.indexOf(':') + 1);
  return Array.from({ length: Math.max(0, material.length - 7) }, (_, i) => material.slice(i, i + 8));
}

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error('threw a non-Error');
  }
  throw new Error('did not throw');
}

/** A KvLike that records every put and keeps values in memory. */
function recorder(): KvLike & { puts: { key: string; value: string; ttl: number }[] } {
  const values = new Map<string, string>();
  const puts: { key: string; value: string; ttl: number }[] = [];
  return {
    puts,
    get: async (key) => values.get(key) ?? null,
    put: async (key, value, options) => {
      puts.push({ key, value, ttl: options.expirationTtl });
      values.set(key, value);
    },
    delete: async (key) => {
      values.delete(key);
    },
  };
}

const canarySet = (expiresAt: number = Date.now() + 3_600_000): TokenSet => ({
  accessToken: 'at-CANARY-access-7c1d9e',
  tokenType: 'Bearer',
  expiresAt,
  refreshToken: 'rt-CANARY-refresh-4b8a02',
  scope: ['orders:read', 'orders:write'],
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('seal and open', () => {
  it('round-trips any text, in the v1.<kid>.<iv>.<ciphertext> format', async () => {
    for (const text of ['', 'x', '{"accessToken":"a"}', 'ünïcødé ✓ 🔑', '\uFEFFstarts with a BOM', 'y'.repeat(20_000)]) {
      const sealed = await seal(ring, 'tok:app:instabox', text);
      const [, kid, iv, ct] = SEALED.exec(sealed) ?? [];
      expect(kid).toBe('k1');
      expect(fromBase64url(iv!)).toHaveLength(12);
      // ciphertext is as long as the plaintext, plus GCM's 16-byte tag
      expect(fromBase64url(ct!)).toHaveLength(new TextEncoder().encode(text).length + 16);
      expect(await open(ring, 'tok:app:instabox', sealed)).toBe(text);
    }
  });

  it('seals the same value differently every time (a fresh random IV)', async () => {
    const sealed = await Promise.all(Array.from({ length: 200 }, () => seal(ring, 'tok:app:instabox', 'same value')));
    expect(new Set(sealed).size).toBe(200);
    expect(new Set(sealed.map((s) => s.split('.')[2])).size).toBe(200);
    for (const s of sealed) expect(await open(ring, 'tok:app:instabox', s)).toBe('same value');
  });

  it('holds no canary, not even base64-decoded', async () => {
    const sealed = await seal(ring, 'tokens:eshopbox', JSON.stringify(canarySet()));
    for (const reading of everyReading(sealed)) expect(reading).not.toContain('CANARY');
  });

  it('binds the value to its key name: under any other name it is a miss', async () => {
    const sealed = await seal(ring, 'tok:app:instabox', 'secret');
    for (const other of ['tok:app:eshopbox', 'tok:app:instabox ', 'tok:app:Instabox', 'tok:app:', '', 'tokens:instabox']) {
      expect(await open(ring, other, sealed)).toBeUndefined();
    }
    expect(await open(ring, 'tok:app:instabox', sealed)).toBe('secret');
  });

  it('reads every single-character change of a short value as a miss (every position, every character)', async () => {
    const name = 'tok:app:instabox';
    const sealed = await seal(ring, name, 'x');
    const opened: string[] = [];
    let tried = 0;
    for (let i = 0; i < sealed.length; i++) {
      for (const c of `${ALPHABET}.`) {
        if (c === sealed[i]) continue;
        const changed = sealed.slice(0, i) + c + sealed.slice(i + 1);
        tried++;
        if ((await open(ring, name, changed)) !== undefined) opened.push(changed);
      }
    }
    expect(tried).toBeGreaterThan(40 * 64);
    expect(opened).toEqual([]);
  });

  it('reads every flipped bit of the IV and the ciphertext as a miss', async () => {
    const name = 'tok:app:instabox';
    const sealed = await seal(ring, name, 'short');
    const [, kid, iv, ct] = SEALED.exec(sealed)!;
    const opened: string[] = [];
    for (const which of ['iv', 'ct'] as const) {
      const bytes = fromBase64url(which === 'iv' ? iv! : ct!);
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const flipped = bytes.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        const changed = which === 'iv' ? `v1.${kid}.${toBase64url(flipped)}.${ct}` : `v1.${kid}.${iv}.${toBase64url(flipped)}`;
        if ((await open(ring, name, changed)) !== undefined) opened.push(`${which} bit ${bit}`);
      }
    }
    expect(opened).toEqual([]);
  });

  it('reads a changed character at 400 random places of a long ciphertext as a miss', async () => {
    const name = 'tok:session:0123456789abcdef0123456789abcdef:instacart';
    const sealed = await seal(ring, name, JSON.stringify({ ...canarySet(), accessToken: 'a'.repeat(3000) }));
    const start = sealed.lastIndexOf('.') + 1;
    const opened: number[] = [];
    for (let n = 0; n < 400; n++) {
      const i = start + Math.floor(Math.random() * (sealed.length - start));
      const others = ALPHABET.replace(sealed[i]!, '');
      const c = others[Math.floor(Math.random() * others.length)]!;
      if ((await open(ring, name, sealed.slice(0, i) + c + sealed.slice(i + 1))) !== undefined) opened.push(i);
    }
    expect(opened).toEqual([]);
  });

  it('reads truncated, extended and malformed values as a miss, never a throw', async () => {
    const name = 'tok:app:instabox';
    const sealed = await seal(ring, name, 'value');
    const [, , iv, ct] = SEALED.exec(sealed)!;
    const bad = [
      '',
      'v1',
      'value',
      '{"accessToken":"plain json"}',
      sealed.slice(0, -1),
      sealed.slice(0, -4),
      `${sealed}A`,
      `${sealed}.`,
      `.${sealed}`,
      sealed.replace('v1.', 'v2.'),
      sealed.replace('v1.', 'V1.'),
      sealed.replace('.k1.', '..'),
      `v1.k1.${iv}`,
      `v1.k1.${iv}.`,
      `v1.k1.${iv}.${ct}.${ct}`,
      `v1.k1.${iv!.slice(0, 15)}.${ct}`,
      `v1.k1.${iv}A.${ct}`,
      `v1.k1.${iv}.${ct!.slice(0, 20)}`,
      `v1.k1.${iv}.${ct}==`,
      `v1.k1.${iv!.replace(/./, '+')}.${ct}`,
      `v1.k1.${iv}.${ct!.replace(/./, '/')}`,
      ` ${sealed}`,
      `${sealed}\n`,
    ];
    for (const value of bad) await expect(open(ring, name, value), value).resolves.toBeUndefined();
    await expect(open(ring, name, 42 as unknown as string)).resolves.toBeUndefined();
    await expect(open(ring, name, null as unknown as string)).resolves.toBeUndefined();
  });

  it('reads a value sealed under an unknown key id, or another key with the same id, as a miss', async () => {
    const other = parseKeyRing(NEW);
    const sealedByOther = await seal(other, 'tok:app:instabox', 'value');
    expect(await open(ring, 'tok:app:instabox', sealedByOther)).toBeUndefined();
    const sameIdOtherKey = parseKeyRing(generateKeyRingSecret('k1'));
    const sealed = await seal(sameIdOtherKey, 'tok:app:instabox', 'value');
    expect(sealed.split('.')[1]).toBe('k1');
    expect(await open(ring, 'tok:app:instabox', sealed)).toBeUndefined();
    // a known key id put on a value sealed with another key
    expect(await open(ring, 'tok:app:instabox', sealedByOther.replace('.k2.', '.k1.'))).toBeUndefined();
  });

  it('rotates: the new key, listed first, seals; the old one, kept, still opens', async () => {
    const before = await seal(ring, 'tok:app:instabox', 'sealed before the rotation');
    const rotated = parseKeyRing(`${NEW},${OLD}`);
    expect(rotated.current).toBe('k2');
    expect(rotated.kids).toEqual(['k2', 'k1']);
    expect(await open(rotated, 'tok:app:instabox', before)).toBe('sealed before the rotation');
    const after = await seal(rotated, 'tok:app:instabox', 'sealed after');
    expect(after.startsWith('v1.k2.')).toBe(true);
    // The old ring cannot read new values; once the old key is dropped, old values are misses.
    expect(await open(ring, 'tok:app:instabox', after)).toBeUndefined();
    const retired = parseKeyRing(NEW);
    expect(await open(retired, 'tok:app:instabox', after)).toBe('sealed after');
    expect(await open(retired, 'tok:app:instabox', before)).toBeUndefined();
  });

  it('imports each key once per ring, non-extractable, and only the keys it uses', async () => {
    const underKidB = (await seal(ring, 'n', 'x')).replace('.k1.', '.b.');
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    const fresh = parseKeyRing(`${generateKeyRingSecret('a')},${generateKeyRingSecret('b')},${generateKeyRingSecret('c')}`);
    expect(importKey).not.toHaveBeenCalled();
    for (let i = 0; i < 20; i++) expect(await open(fresh, 'n', await seal(fresh, 'n', `v${i}`))).toBe(`v${i}`);
    expect(await open(fresh, 'n', underKidB)).toBeUndefined(); // imports key b, which cannot open it
    expect(await open(fresh, 'n', underKidB)).toBeUndefined();
    expect(importKey).toHaveBeenCalledTimes(2);
    for (const call of importKey.mock.calls) {
      expect(call[0]).toBe('raw');
      expect(call[3]).toBe(false); // extractable: false
    }
    expect(importKey.mock.calls[0]![4]).toEqual(['encrypt', 'decrypt']);
    expect(importKey.mock.calls[1]![4]).toEqual(['decrypt']); // an old key only opens
  });

  it('keeps no key material on the ring object', () => {
    const secret = `${NEW},${OLD}`;
    const parsed = parseKeyRing(secret);
    const shown = [JSON.stringify(parsed), String(Object.values(parsed)), Object.keys(parsed).join()];
    for (const text of shown) for (const window of [...windows(NEW), ...windows(OLD)]) expect(text).not.toContain(window);
    expect(Object.isFrozen(parsed)).toBe(true);
  });

  it('refuses to seal with a ring that parseKeyRing did not make', async () => {
    const forged: KeyRing = { current: 'k1', kids: ['k1'] };
    await expect(seal(forged, 'n', 'x')).rejects.toThrow(/parseKeyRing/);
    expect(await open(forged, 'n', await seal(ring, 'n', 'x'))).toBeUndefined();
  });
});

describe('parseKeyRing and generateKeyRingSecret', () => {
  it('accepts one or more kid:base64url(32 bytes) entries, ignoring surrounding whitespace', async () => {
    expect(parseKeyRing(OLD)).toEqual({ current: 'k1', kids: ['k1'] });
    const spaced = parseKeyRing(` ${NEW} ,\n ${OLD}\n`);
    expect(spaced.kids).toEqual(['k2', 'k1']);
    expect(await open(spaced, 'n', await seal(ring, 'n', 'x'))).toBe('x');
    expect(parseKeyRing(`${OLD},`).kids).toEqual(['k1']);
    const longest = generateKeyRingSecret('A-b_0123456789xY');
    expect(parseKeyRing(longest).current).toBe('A-b_0123456789xY');
  });

  it('generates a fresh 32-byte key each time', () => {
    const a = generateKeyRingSecret();
    const b = generateKeyRingSecret();
    expect(a).toMatch(/^k1:[A-Za-z0-9_-]{43}$/);
    expect(fromBase64url(a.slice(3))).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(() => generateKeyRingSecret('bad kid')).toThrow(/TOKENGATE_KEYS/);
    expect(() => generateKeyRingSecret('')).toThrow(/TOKENGATE_KEYS/);
  });

  it('refuses malformed secrets with a message naming TOKENGATE_KEYS and the problem, and no key material', () => {
    const key = OLD.slice(3);
    const bytes = (n: number): string => toBase64url(crypto.getRandomValues(new Uint8Array(n)));
    const cases: [secret: string, problem: RegExp][] = [
      ['', /holds no key/],
      ['   \n', /holds no key/],
      [',, ,', /holds no key/],
      [key, /entry 1 has no key id/],
      [`${OLD},${key}`, /entry 2 has no key id/],
      [`:${key}`, /entry 1: the key id must be 1 to 16 characters/],
      [`bad kid:${key}`, /entry 1: the key id must be 1 to 16 characters/],
      [`k.1:${key}`, /the key id must be/],
      [`${key.slice(0, 17)}:${key}`, /the key id must be/],
      [`${key}:k1`, /the key id must be/],
      ['k1:', /entry 1 \(key id "k1"\): the key is 0 bytes; AES-256 needs exactly 32/],
      [`k1:${bytes(31)}`, /the key is 31 bytes; AES-256 needs exactly 32/],
      [`k1:${bytes(33)}`, /the key is 33 bytes/],
      [`k1:${bytes(16)}`, /the key is 16 bytes/],
      [`k1:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`, /not base64url/],
      [`k1:${key}=`, /not base64url/],
      [`k1:${key.slice(0, 20)} ${key.slice(20)}`, /not base64url/],
      [`k1:${key.slice(0, -1)}B`, /not base64url/], // non-canonical: the last character's unused bits set
      [`${OLD},${NEW},k1:${bytes(32)}`, /entries 1 and 3 both use the key id "k1"/],
    ];
    for (const [secret, problem] of cases) {
      const error = thrown(() => parseKeyRing(secret));
      expect(error.message, secret).toMatch(/TOKENGATE_KEYS/);
      expect(error.message, secret).toMatch(problem);
      for (const window of windows(secret)) expect(error.message).not.toContain(window);
      for (const window of [...windows(OLD), ...windows(NEW)]) expect(error.message).not.toContain(window);
    }
  });
});

describe('kvTokenStore over workerd KV', () => {
  it('round-trips a token set, minus its refresh token', async () => {
    const key = keyName('roundtrip');
    const store = kvTokenStore(kv, ring);
    const tokens = canarySet();
    await store.set(key, tokens);
    expect(await store.get(key)).toEqual({ accessToken: tokens.accessToken, tokenType: 'Bearer', expiresAt: tokens.expiresAt, scope: tokens.scope });
    const minimal = { accessToken: 'at-minimal', tokenType: 'Bearer' };
    await store.set(key, minimal);
    expect(await store.get(key)).toEqual(minimal);
  });

  it('leaves no canary in the raw KV value, sealed for that key name', async () => {
    const key = keyName('raw');
    await kvTokenStore(kv, ring).set(key, canarySet());
    const raw = await kv.get(key, 'text');
    expect(raw).toMatch(SEALED);
    for (const reading of everyReading(raw!)) expect(reading).not.toContain('CANARY');
    // the refresh token was not sealed either: it never goes to KV
    expect(await open(ring, key, raw!)).not.toContain('refresh');
    expect(JSON.parse((await open(ring, key, raw!))!)).not.toHaveProperty('refreshToken');
  });

  it('writes a differently sealed value each time the same set is stored', async () => {
    const key = keyName('iv');
    const store = kvTokenStore(kv, ring);
    const tokens = canarySet();
    const raws = new Set<string | null>();
    for (let i = 0; i < 5; i++) {
      await store.set(key, tokens);
      raws.add(await kv.get(key, 'text'));
    }
    expect(raws.size).toBe(5);
  });

  it('reads a value copied under another key name as a miss', async () => {
    const store = kvTokenStore(kv, ring);
    const from = keyName('app:instabox');
    const to = keyName('app:eshopbox');
    await store.set(from, canarySet());
    await kv.put(to, (await kv.get(from, 'text'))!, { expirationTtl: 600 });
    expect(await store.get(to)).toBeUndefined();
    expect(await store.get(from)).toBeDefined();
  });

  it('reads a tampered KV value as a miss, and a restored one as a hit', async () => {
    const store = kvTokenStore(kv, ring);
    const key = keyName('tamper');
    await store.set(key, canarySet());
    const raw = (await kv.get(key, 'text'))!;
    const start = raw.lastIndexOf('.') + 1;
    for (const i of [start, start + 1, Math.floor((start + raw.length) / 2), raw.length - 2, raw.length - 1]) {
      const c = raw[i] === 'A' ? 'B' : 'A';
      await kv.put(key, raw.slice(0, i) + c + raw.slice(i + 1), { expirationTtl: 600 });
      expect(await store.get(key), `position ${i}`).toBeUndefined();
    }
    await kv.put(key, raw, { expirationTtl: 600 });
    expect(await store.get(key)).toBeDefined();
  });

  it('reads values sealed with an unknown key id as a miss', async () => {
    const key = keyName('unknown-kid');
    await kvTokenStore(kv, parseKeyRing(NEW)).set(key, canarySet());
    expect(await kvTokenStore(kv, ring).get(key)).toBeUndefined();
  });

  it('rotates: old values still open after a new key is added first; new writes use the new key id', async () => {
    const key = keyName('rotation');
    await kvTokenStore(kv, ring).set(key, canarySet());
    const rotated = kvTokenStore(kv, parseKeyRing(`${NEW},${OLD}`));
    expect((await rotated.get(key))?.accessToken).toBe('at-CANARY-access-7c1d9e');
    await rotated.set(key, { ...canarySet(), accessToken: 'at-after-rotation' });
    expect((await kv.get(key, 'text'))?.startsWith('v1.k2.')).toBe(true);
    expect((await rotated.get(key))?.accessToken).toBe('at-after-rotation');
  });

  it('reads plaintext, non-JSON and wrongly shaped values as a miss', async () => {
    const store = kvTokenStore(kv, ring);
    const key = keyName('shape');
    const plaintexts = [
      'not json',
      '',
      'null',
      '[]',
      '"a string"',
      '{}',
      '{"accessToken":"a"}',
      '{"accessToken":"","tokenType":"Bearer"}',
      '{"accessToken":42,"tokenType":"Bearer"}',
      '{"accessToken":"a","tokenType":"Bearer","expiresAt":"tomorrow"}',
      '{"accessToken":"a","tokenType":"Bearer","scope":"read"}',
      '{"accessToken":"a","tokenType":"Bearer","scope":[1]}',
    ];
    for (const text of plaintexts) {
      await kv.put(key, await seal(ring, key, text), { expirationTtl: 600 });
      expect(await store.get(key), text).toBeUndefined();
    }
    await kv.put(key, JSON.stringify({ accessToken: 'a', tokenType: 'Bearer' }), { expirationTtl: 600 });
    expect(await store.get(key)).toBeUndefined();
  });

  it('reads an expired set as a miss', async () => {
    let clock = T0;
    const store = kvTokenStore(kv, ring, { now: () => clock });
    const key = keyName('expiry');
    await store.set(key, { accessToken: 'at', tokenType: 'Bearer', expiresAt: T0 + 30_000 });
    expect(await store.get(key)).toBeDefined();
    clock = T0 + 29_999;
    expect(await store.get(key)).toBeDefined();
    clock = T0 + 30_000;
    expect(await store.get(key)).toBeUndefined();
    clock = T0 + 3_600_000;
    expect(await store.get(key)).toBeUndefined();
    await store.set(key, { accessToken: 'at', tokenType: 'Bearer', expiresAt: T0 });
    expect(await store.get(key)).toBeUndefined();
  });

  it('keeps 5,000-character tokens intact', async () => {
    const store = kvTokenStore(kv, ring);
    const key = keyName('long');
    const accessToken = Array.from({ length: 5000 }, (_, i) => ALPHABET[i % ALPHABET.length]).join('');
    const scope = Array.from({ length: 50 }, (_, i) => `scope:${i}:${'s'.repeat(90)}`);
    await store.set(key, { accessToken, tokenType: 'Bearer', expiresAt: Date.now() + 600_000, scope, refreshToken: 'r'.repeat(5000) });
    const read = await store.get(key);
    expect(read?.accessToken).toBe(accessToken);
    expect(read?.accessToken).toHaveLength(5000);
    expect(read?.scope).toEqual(scope);
  });

  it('answers missing keys with undefined and deletes', async () => {
    const store = kvTokenStore(kv, ring);
    const key = keyName('delete');
    expect(await store.get(key)).toBeUndefined();
    await store.set(key, canarySet());
    await store.delete(key);
    expect(await store.get(key)).toBeUndefined();
    expect(await kv.get(key, 'text')).toBeNull();
  });

  it('puts values under the prefix, sealed for the full KV key name', async () => {
    const a = kvTokenStore(kv, ring, { prefix: 'deploy-a:' });
    const b = kvTokenStore(kv, ring, { prefix: 'deploy-b:' });
    const key = keyName('prefix');
    await a.set(key, canarySet());
    const raw = (await kv.get(`deploy-a:${key}`, 'text'))!;
    expect(await open(ring, `deploy-a:${key}`, raw)).toContain('at-CANARY');
    expect(await kv.get(key, 'text')).toBeNull();
    await kv.put(`deploy-b:${key}`, raw, { expirationTtl: 600 });
    expect(await b.get(key)).toBeUndefined();
    expect(await a.get(key)).toBeDefined();
    await a.delete(key);
    expect(await kv.get(`deploy-a:${key}`, 'text')).toBeNull();
  });
});

describe('kvTokenStore TTLs', () => {
  const ttlFor = async (tokens: TokenSet, graceSeconds?: number): Promise<number> => {
    const fake = recorder();
    await kvTokenStore(fake, ring, { now: () => T0, ...(graceSeconds === undefined ? {} : { graceSeconds }) }).set('tok:app:x', tokens);
    expect(fake.puts).toHaveLength(1);
    return fake.puts[0]!.ttl;
  };
  const at = (expiresAt?: number): TokenSet => ({ accessToken: 'a', tokenType: 'Bearer', ...(expiresAt === undefined ? {} : { expiresAt }) });

  it('lives as long as the token, plus the grace', async () => {
    expect(await ttlFor(at(T0 + 3_600_000))).toBe(3600);
    expect(await ttlFor(at(T0 + 3_600_000), 30)).toBe(3630);
    expect(await ttlFor(at(T0 + 90_200))).toBe(91);
    expect(await ttlFor(at(T0 + 30 * 86_400_000))).toBe(30 * 86_400);
  });

  it('never asks KV for less than 60 seconds', async () => {
    expect(KV_MIN_TTL_SECONDS).toBe(60);
    for (const ms of [-86_400_000, -1, 0, 1, 999, 10_000, 59_000, 59_999, 60_000]) expect(await ttlFor(at(T0 + ms))).toBe(60);
    expect(await ttlFor(at(T0 + 60_001))).toBe(61);
    for (let n = 0; n < 300; n++) {
      const ttl = await ttlFor(at(T0 + Math.floor((Math.random() - 0.3) * 7_200_000)), Math.floor(Math.random() * 120));
      expect(Number.isInteger(ttl)).toBe(true);
      expect(ttl).toBeGreaterThanOrEqual(60);
    }
  });

  it('gives a set without an expiry a bounded TTL of one day', async () => {
    expect(KV_NO_EXPIRY_TTL_SECONDS).toBe(86_400);
    expect(await ttlFor(at())).toBe(86_400);
    expect(await ttlFor(at(Number.NaN))).toBe(86_400);
  });

  it('stores the sealed value under the key name it was sealed for', async () => {
    const fake = recorder();
    await kvTokenStore(fake, ring, { prefix: 'p:' }).set('tok:app:x', canarySet());
    expect(fake.puts[0]!.key).toBe('p:tok:app:x');
    expect(await open(ring, 'p:tok:app:x', fake.puts[0]!.value)).toContain('at-CANARY');
  });

  it('refuses a negative or non-finite grace', () => {
    for (const graceSeconds of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => kvTokenStore(recorder(), ring, { graceSeconds })).toThrow(RangeError);
    }
  });
});
