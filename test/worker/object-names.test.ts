import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { generateKeyRingSecret } from '../../worker/crypto.js';
import type { Env } from '../../worker/env.js';
import { objectName } from '../../worker/object-names.js';
import { coordinator } from '../../worker/token-cache.js';
import { browser, call, linkBff } from './helpers.js';

// Issue 21, finding 8: Durable Object names carried session ids in clear (`session:<id>`) while KV keys
// hashed them. A session's object is now named by a keyed hash of its id, and a session linked under
// the old name moves to the new one the first time it is used.

const real = env as unknown as Env;
const sessionOf = (cookie: string): string => decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
const byName = (name: string) => real.COORDINATOR.get(real.COORDINATOR.idFromName(name));
const entries = (stub: DurableObjectStub): Promise<Map<string, unknown>> => runInDurableObject(stub, (_instance, state) => state.storage.list());
const me = (cookie: string): Promise<Response> => call('/api/instacart/v2/fulfillment/users/self', { headers: browser({ cookie }) });

describe('Durable Object names (issue 21, finding 8)', () => {
  it('a linked session’s object is named by a keyed hash of its id, never by the id', async () => {
    const cookie = await linkBff();
    const session = sessionOf(cookie);
    const credential = { kind: 'session', vendor: 'instacart', session } as const;
    const name = await objectName(real, credential);
    expect(name).toMatch(/^session:[A-Za-z0-9_-]{43}$/);
    expect(name).not.toContain(session);
    // Keyed: another key ring names the same session differently.
    expect(await objectName({ ...real, TOKENGATE_KEYS: generateKeyRingSecret('k9') }, credential)).not.toBe(name);
    // The tokens are in the object of that name; nothing is under the id.
    const held = await runInDurableObject(await coordinator(real, credential), async (_instance, state) => ({ name: state.id.name, keys: [...(await state.storage.list()).keys()] }));
    expect(held.keys).toContain('tokens:instacart');
    if (held.name !== undefined) expect(held.name).toBe(name);
    expect((await entries(byName(`session:${session}`))).size).toBe(0);
    expect(await objectName(real, { kind: 'app', vendor: 'instabox' })).toBe('app:instabox');
  });

  it('a session linked under the old name stays linked: its object moves to the keyed name on first use', async () => {
    // A link made before this change: the same stored values, under `session:<id>` of a session this isolate has never seen.
    const linked = sessionOf(await linkBff());
    const stored = await entries(await coordinator(real, { kind: 'session', vendor: 'instacart', session: linked }));
    const old = 'session-linked-before-the-keyed-names-0123456789';
    await runInDurableObject(byName(`session:${old}`), async (_instance, state) => {
      for (const [key, value] of stored) await state.storage.put(key, value);
    });
    const answer = await me(`__Host-tg_session=${old}`);
    expect(answer.status).toBe(200);
    expect((await entries(byName(`session:${old}`))).size).toBe(0);
    const moved = await entries(await coordinator(real, { kind: 'session', vendor: 'instacart', session: old }));
    expect(moved.has('tokens:instacart')).toBe(true);
    expect((await me(`__Host-tg_session=${old}`)).status).toBe(200);
  });
});
