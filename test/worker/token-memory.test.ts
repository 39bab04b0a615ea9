import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { kvTokenStore } from '../../worker/kv-store.js';
import { parseKeyRing } from '../../worker/crypto.js';
import { coordinator, getAccessToken, kvKeyOf, type Credential } from '../../worker/token-cache.js';
import { createTokenMemory, TOKEN_MEMORY_MAX } from '../../worker/token-memory.js';
import { browser, call, linkBff } from './helpers.js';

// The isolate's token memory is bounded, and an unlink is seen by every isolate at once (issue 16).
const bindings = env as unknown as { TOKENS: KVNamespace; TOKENGATE_KEYS: string } & Parameters<typeof coordinator>[0];

describe('the isolate token memory', () => {
  it('holds at most its bound: filled past it, the least recently used go first', () => {
    const memory = createTokenMemory();
    const token = (i: number) => ({ accessToken: `token-${i}`, tokenType: 'Bearer' });
    memory.set('key-0', token(0));
    for (let i = 1; i < TOKEN_MEMORY_MAX * 2; i++) {
      memory.set(`key-${i}`, token(i));
      // key-0 is used all along, so it stays.
      expect(memory.get('key-0')?.accessToken).toBe('token-0');
    }
    expect(memory.size).toBe(TOKEN_MEMORY_MAX);
    expect(memory.get('key-1')).toBeUndefined();
    expect(memory.get(`key-${TOKEN_MEMORY_MAX * 2 - 1}`)?.accessToken).toBe(`token-${TOKEN_MEMORY_MAX * 2 - 1}`);
    expect(() => createTokenMemory(0)).toThrow(RangeError);
  });
});

describe('unlink reaches every isolate', () => {
  it('an unlink made elsewhere stops this isolate serving the session at once, even with a stale KV copy', async () => {
    const cookie = await linkBff({ 'sec-fetch-site': 'same-origin' });
    const me = (): Promise<Response> => call('/api/instacart/v2/fulfillment/users/self', { headers: browser({ cookie }) });
    expect((await me()).status).toBe(200);
    expect((await me()).status).toBe(200);
    const session = /__Host-tg_session=([^;]+)/.exec(cookie)![1]!;
    const credential: Credential = { kind: 'session', vendor: 'instacart', session };
    const key = await kvKeyOf(credential);
    // What an eventually consistent KV may still show another location after the unlink: a sealed token.
    const stale = kvTokenStore(bindings.TOKENS, parseKeyRing(bindings.TOKENGATE_KEYS));
    const current = await getAccessToken(bindings, { keys: parseKeyRing(bindings.TOKENGATE_KEYS) } as never, credential);
    if (!current.ok) throw new Error(current.code);
    // Another isolate unlinks: it talks to the session's Durable Object, not to this isolate's memory.
    await (await coordinator(bindings, credential)).unlink('instacart', key);
    await stale.set(key, { ...current.value, expiresAt: Date.now() + 3_600_000 });
    const after = await me();
    expect(after.status).toBe(401);
    await expect(after.json()).resolves.toMatchObject({ error: 'not_linked' });
  });
});
