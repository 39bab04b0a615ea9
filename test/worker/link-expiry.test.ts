import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../worker/env.js';
import worker from '../../worker/index.js';
import { coordinator } from '../../worker/token-cache.js';
import { ORIGIN, setCookies } from './helpers.js';

// Issue 21, finding 7: pending links expire and their storage is deleted. Each cookieless
// `GET /link/:vendor/start` makes a session's Durable Object holding the sealed transaction; the
// object's alarm deletes it at the expiry. The expiry is shortened through its configuration
// (`LINK_MAX_AGE = 1`, seconds) rather than waited out.

const real = env as unknown as Env & Record<string, unknown>;
/** The Worker's configuration with one-second links. */
const shortLived = { ...real, LINK_MAX_AGE: 1 };

const start = (cookie?: string): Promise<Response> =>
  worker.fetch(new Request(`${ORIGIN}/link/oauth2/start`, { redirect: 'manual', headers: { 'sec-fetch-site': 'same-origin', ...(cookie === undefined ? {} : { cookie }) } }), shortLived as never);

/** The session a start's transaction cookie names. */
const sessionOf = (answer: Response): string => setCookies(answer).find((cookie) => cookie.name === '__Host-tg_link')!.value;

/** Every coordinator object's stored entries and set alarms, added up: what the namespace holds. */
async function namespaceStorage(): Promise<{ entries: number; alarms: number }> {
  let entries = 0;
  let alarms = 0;
  for (const id of await listDurableObjectIds(real.COORDINATOR)) {
    const [count, alarm] = await runInDurableObject(real.COORDINATOR.get(id), async (_instance, state) => [(await state.storage.list()).size, await state.storage.getAlarm()] as const);
    entries += count;
    if (alarm !== null) alarms++;
  }
  return { entries, alarms };
}

const stubOf = (session: string) => coordinator(real, { kind: 'session', vendor: 'oauth2', session });

describe('pending links expire (issue 21, finding 7)', () => {
  it('after 5 abandoned starts and the expiry, storage is back where it was', async () => {
    const before = await namespaceStorage();
    const sessions: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await start();
      expect(answer.status).toBe(303);
      expect(setCookies(answer).find((cookie) => cookie.name === '__Host-tg_link')?.attributes.get('max-age')).toBe('1');
      sessions.push(sessionOf(answer));
    }
    expect(new Set(sessions).size).toBe(5);
    const during = await namespaceStorage();
    expect(during.entries - before.entries).toBe(5);
    expect(during.alarms - before.alarms).toBe(5);

    // Past the expiry, each object's alarm runs (here at once, if it has not run on its own yet).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    for (const session of sessions) await runDurableObjectAlarm(await stubOf(session));
    expect(await namespaceStorage()).toEqual(before);

    // And the late callback of one of them finds nothing.
    const late = await worker.fetch(new Request(`${ORIGIN}/link/oauth2/callback?code=c&state=s`, { headers: { cookie: `__Host-tg_link=${sessions[0]}` } }), shortLived as never);
    expect(late.status).toBe(400);
    await expect(late.json()).resolves.toMatchObject({ reason: 'ERR_NO_TRANSACTION' });
  });

  it('a browser that starts again before its callback keeps its one pending session: no new object per start', async () => {
    const before = await namespaceStorage();
    const first = await start();
    const session = sessionOf(first);
    for (let i = 0; i < 3; i++) {
      const again = await start(`__Host-tg_link=${session}`);
      expect(again.status).toBe(303);
      expect(sessionOf(again)).toBe(session);
    }
    expect((await namespaceStorage()).entries - before.entries).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await runDurableObjectAlarm(await stubOf(session));
    expect(await namespaceStorage()).toEqual(before);
  });

  it('a link completed in time keeps its tokens when the alarm fires', async () => {
    const answer = await start();
    const session = sessionOf(answer);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await runDurableObjectAlarm(await stubOf(session));
    // A linked session's object holds its tokens: the alarm deletes only expired transactions.
    await runInDurableObject(await stubOf(session), async (_instance, state) => {
      await state.storage.put('tokens:oauth2', 'sealed-tokens');
      await state.storage.put('link:oauth2', 'an unreadable transaction');
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(await stubOf(session));
    const left = await runInDurableObject(await stubOf(session), async (_instance, state) => [...(await state.storage.list()).keys()]);
    expect(left).toEqual(['tokens:oauth2']);
  });
});
