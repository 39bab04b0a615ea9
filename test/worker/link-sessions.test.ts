import { describe, expect, it } from 'vitest';
import { browser, call, cookieHeader, linkBff, sandboxStats, setCookies } from './helpers.js';

// A cross-site page cannot replace or orphan a linked session, a forged callback does not use up the
// pending link, and the standard server's callbacks need `iss` (docs/security.md rows 24 and 4).

const me = (cookie: string): Promise<Response> => call('/api/instacart/v2/fulfillment/users/self', { headers: browser({ cookie }) });

/** `name=value; …` back into its pairs. */
const setCookieEntries = (header: string): [string, string][] =>
  header.split('; ').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]);

async function startLink(vendor: string): Promise<{ location: URL; cookie: string }> {
  const start = await call(`/link/${vendor}/start`, { headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' } });
  expect(start.status).toBe(303);
  return { location: new URL(start.headers.get('location')!), cookie: cookieHeader(setCookies(start).filter((c) => c.name === '__Host-tg_link')) };
}

describe('linked sessions under cross-site attack (row 24)', () => {
  it('a cross-site navigation to /link/*/start changes nothing, and the original session still works', async () => {
    const session = await linkBff({ 'sec-fetch-site': 'same-origin' });
    const linkedUser = ((await (await me(session)).json()) as { id: number }).id;
    const before = await sandboxStats();
    // What a page on another site gets by navigating there: the Strict session cookie is not sent.
    for (const site of ['cross-site', 'same-site']) {
      const hijack = await call('/link/instacart/start', { headers: { 'sec-fetch-site': site, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } });
      expect(hijack.status).toBe(303);
      expect(hijack.headers.get('location')).toBe('/?link_error=ERR_CROSS_SITE_START&vendor=instacart');
      // No new session, no transaction cookie that a callback could turn into one.
      expect(hijack.headers.getSetCookie()).toEqual([]);
    }
    // Nothing reached the vendor (Instacart's sandbox would have created and authorized a test user).
    expect((await sandboxStats()).apiCalls).toEqual(before.apiCalls);
    const after = await me(session);
    expect(after.status).toBe(200);
    expect(((await after.json()) as { id: number }).id).toBe(linkedUser);
  });

  it('a wrong-state callback, then the right one still completes', async () => {
    const { location, cookie } = await startLink('instacart');
    // The browser's cookie jar: every answer's Set-Cookie is applied to it, as a browser would.
    const jar = new Map(setCookieEntries(cookie));
    const send = async (url: URL): Promise<Response> => {
      const answer = await call(`${url.pathname}${url.search}`, { headers: { cookie: cookieHeader([...jar].map(([name, value]) => ({ name, value }))) } });
      for (const set of setCookies(answer)) {
        if (set.attributes.get('max-age') === '0') jar.delete(set.name);
        else jar.set(set.name, set.value);
      }
      return answer;
    };
    const before = (await sandboxStats()).tokenRequests['instacart']!;
    const forged = new URL(location);
    forged.searchParams.set('state', 'forged-by-another-site');
    const wrong = await send(forged);
    expect(wrong.status).toBe(400);
    await expect(wrong.json()).resolves.toMatchObject({ reason: 'ERR_STATE_MISMATCH' });
    // Neither clears nor replaces the transaction cookie.
    expect(wrong.headers.getSetCookie()).toEqual([]);
    forged.searchParams.delete('state');
    const missing = await send(forged);
    await expect(missing.json()).resolves.toMatchObject({ reason: 'ERR_STATE_MISSING' });
    expect(missing.headers.getSetCookie()).toEqual([]);
    expect((await sandboxStats()).tokenRequests['instacart']! - before).toBe(0);

    const right = await send(location);
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/?linked=instacart');
    expect(jar.has('__Host-tg_session')).toBe(true);
    // And it is used once: the replay (with the cookie it had) finds nothing.
    const replay = await call(`${location.pathname}${location.search}`, { headers: { cookie } });
    await expect(replay.json()).resolves.toMatchObject({ reason: 'ERR_NO_TRANSACTION' });
  });
});

describe('the standard server advertises iss (row 4)', () => {
  it('an oauth2 callback without iss is refused before any token request', async () => {
    const config = (await (await call('/link/oauth2/config')).json()) as { requireIss: boolean };
    expect(config.requireIss).toBe(true);
    const { location, cookie } = await startLink('oauth2');
    const state = location.searchParams.get('state')!;
    const before = (await sandboxStats()).tokenRequests['oauth2'] ?? 0;
    const noIss = await call(`/link/oauth2/callback?code=any-code&state=${encodeURIComponent(state)}`, { headers: { cookie } });
    expect(noIss.status).toBe(400);
    await expect(noIss.json()).resolves.toMatchObject({ reason: 'ERR_ISSUER_MISSING' });
    expect((await sandboxStats()).tokenRequests['oauth2'] ?? 0).toBe(before);
  });
});
