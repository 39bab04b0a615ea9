import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../worker/config.js';
import { generateKeyRingSecret } from '../../worker/crypto.js';
import { returnPathOf } from '../../worker/routes/link.js';
import { browser, call, ORIGIN, setCookies } from './helpers.js';

// The Worker in front of a storefront it does not serve (issue 17): a sibling host of the same site
// calls it with credentials (CORS for exact origins only, rows 9 and 12), a BFF link may return to a
// configured storefront origin, the embed starts a link with a listed Origin and the CSRF header, and
// a probe tells a page whether it can keep the session cookie at all. BASE_PATH is checked here; the
// Worker mounted under it is driven end to end in test/e2e/storefront.test.ts.

const SHOP = 'https://shop.example';
const FOREIGN = 'https://evil.example';

describe('return_to on a storefront origin', () => {
  const options = { storefrontOrigins: [SHOP], basePath: '/tokengate' };
  it('takes an absolute URL only when its origin is listed, character for character', () => {
    expect(returnPathOf(`${SHOP}/checkout?cart=7&linked=x#top`, ORIGIN, options)).toBe(`${SHOP}/checkout?cart=7`);
    for (const value of [
      `${FOREIGN}/checkout`,
      'https://shop.example.evil.example/',
      'https://SHOP.example.', // a different origin once parsed (trailing dot)
      'https://shop.example@evil.example/',
      'https://user:pw@shop.example/',
      'http://shop.example/', // scheme differs
      'https://shop.example:444/',
      'javascript:alert(1)//https://shop.example',
      'https://shop.example\\@evil.example',
      'https://shop.example/%0d%0aSet-Cookie:x',
      `${SHOP}/\u0000`,
    ]) {
      const kept = returnPathOf(value, ORIGIN, options);
      expect(kept === '/' || new URL(kept).origin === SHOP, value).toBe(true);
      if (value !== 'https://shop.example/%0d%0aSet-Cookie:x') expect(kept, value).toBe('/');
    }
    // Without a list (the default), no absolute URL is ever kept.
    expect(returnPathOf(`${SHOP}/checkout`, ORIGIN)).toBe('/');
  });

  it('never returns into the Worker’s own routes under its base path', () => {
    for (const value of ['/tokengate/link/instacart/start', '/tokengate/api/x', '/tokengate/token/x', '/tokengate/session/probe']) {
      expect(returnPathOf(value, SHOP, options), value).toBe('/');
      expect(returnPathOf(`${SHOP}${value}`, SHOP, options), value).toBe('/');
    }
    expect(returnPathOf('/checkout', SHOP, options)).toBe('/checkout');
  });
});

describe('BASE_PATH', () => {
  const env = (basePath: unknown): Record<string, unknown> => {
    const limiter = { limit: async () => ({ success: true }) };
    return { RL_CALLER: limiter, RL_FLOW_CALLER: limiter, RL_STATUS: limiter, PUBLIC_ORIGIN: SHOP, ALLOWED_ORIGINS: [SHOP], TOKENGATE_KEYS: generateKeyRingSecret(), VENDORS: {}, BASE_PATH: basePath };
  };
  const fetch = (async () => new Response(null)) as typeof globalThis.fetch;
  it('is empty or a clean path', () => {
    expect(loadConfig(env('/tokengate'), fetch).basePath).toBe('/tokengate');
    expect(loadConfig(env(undefined), fetch).basePath).toBe('');
    for (const bad of ['/tokengate/', 'tokengate', '/../x', '//x', '/a b', '/x?y']) expect(() => loadConfig(env(bad), fetch), bad).toThrow(ConfigError);
  });
});

describe('a page of another origin of the site', () => {
  it('reads linking answers only when its origin is listed; Vary: Origin always (row 12)', async () => {
    const listed = await call('/link/instacart/status', { headers: { origin: ORIGIN } });
    expect(listed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(listed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(listed.headers.get('vary')).toMatch(/Origin/);
    for (const path of ['/link/instacart/status', '/link/instacart/config', '/session/probe']) {
      const foreign = await call(path, { headers: { origin: FOREIGN } });
      expect(foreign.headers.get('access-control-allow-origin'), path).toBeNull();
      expect(foreign.headers.get('access-control-allow-credentials'), path).toBeNull();
      expect(foreign.headers.get('vary'), path).toMatch(/Origin/);
    }
  });

  it('gets a preflight for the linking and token routes only from a listed origin, for their methods', async () => {
    const ask = (path: string, origin: string, method: string): Promise<Response> =>
      call(path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'x-tokengate-csrf' } });
    expect((await ask('/link/instacart/unlink', ORIGIN, 'POST')).status).toBe(204);
    expect((await ask('/link/instacart/start', ORIGIN, 'POST')).status).toBe(204);
    expect((await ask('/token/instacart', ORIGIN, 'POST')).status).toBe(204);
    expect((await ask('/link/instacart/unlink', FOREIGN, 'POST')).status).toBe(403);
    expect((await ask('/link/instacart/unlink', ORIGIN, 'DELETE')).status).toBe(403);
    expect((await ask('/link/instabox/unlink', ORIGIN, 'POST')).status).toBe(403); // no linking for instabox
    const refused = await ask('/token/instacart', FOREIGN, 'POST');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('starts a BFF link with POST only with a listed Origin and the CSRF header (rows 9, 24)', async () => {
    for (const headers of [{}, { 'x-tokengate-csrf': '1' }, { origin: FOREIGN, 'x-tokengate-csrf': '1' }, { origin: ORIGIN }]) {
      const refused = await call('/link/instacart/start', { method: 'POST', headers });
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(setCookies(refused), JSON.stringify(headers)).toEqual([]);
    }
    const started = await call('/link/instacart/start?return_to=%2Fembed%2Fexample.html', { method: 'POST', headers: browser() });
    expect(started.status).toBe(200);
    const { url } = (await started.json()) as { url: string };
    expect(new URL(url).pathname).toBe('/link/instacart/callback');
    const [cookie] = setCookies(started);
    expect(cookie?.name).toBe('__Host-tg_link');
    expect(cookie?.attributes.get('samesite')).toBe('Lax');
    // The callback sends the browser back to the page it came from.
    const back = await call(new URL(url).pathname + new URL(url).search, { headers: { cookie: `${cookie!.name}=${cookie!.value}` } });
    expect(back.headers.get('location')).toBe('/embed/example.html?linked=instacart');
  });
});

describe('the session probe', () => {
  it('sets a cookie with the session cookie’s attributes and says when it came back', async () => {
    const first = await call('/session/probe');
    expect(await first.json()).toEqual({ cookie: false });
    const [cookie] = setCookies(first);
    expect(cookie?.name).toBe('__Host-tg_probe');
    expect([...cookie!.attributes.keys()].sort()).toEqual(['httponly', 'max-age', 'path', 'samesite', 'secure']);
    expect(cookie?.attributes.get('samesite')).toBe('Strict');
    const second = await call('/session/probe', { headers: { cookie: `${cookie!.name}=${cookie!.value}` } });
    expect(await second.json()).toEqual({ cookie: true });
    expect(setCookies(second)).toEqual([]);
  });
});
