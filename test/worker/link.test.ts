import { createPkce, createState } from 'tokengate';
import { returnPathOf } from '../../worker/routes/link.js';
import { describe, expect, it } from 'vitest';
import { browser, call, ORIGIN, sandboxStats, seen, setCookies } from './helpers.js';

// Account linking through the Worker against the Instacart fulfillment sandbox: the BFF way (tokens
// stay in the Worker, the browser holds an HttpOnly session cookie) and the token-mediating way
// (docs/security.md rows 1, 3, 4, 5, 7, 8).

const cookieHeader = (cookies: { name: string; value: string }[]): string => cookies.map((c) => `${c.name}=${c.value}`).join('; ');

async function startBff(base = ORIGIN, query = '') {
  const start = await call(`/link/instacart/start${query}`, {}, base);
  expect(start.status).toBe(303);
  const location = new URL(start.headers.get('location')!);
  const [linkCookie] = setCookies(start);
  return { start, location, linkCookie: linkCookie! };
}

describe('BFF linking', () => {
  it('start → callback → linked session → API call as the user, with every cookie locked down (row 8)', async () => {
    const { location, linkCookie } = await startBff();
    expect(location.origin + location.pathname).toBe(`${ORIGIN}/link/instacart/callback`);
    expect(location.searchParams.get('code')).toBeTruthy();
    expect(linkCookie.name).toBe('__Host-tg_link');
    expect([...linkCookie.attributes.keys()].sort()).toEqual(['httponly', 'max-age', 'path', 'samesite', 'secure']);
    expect(linkCookie.attributes.get('samesite')).toBe('Lax');
    expect(linkCookie.attributes.get('path')).toBe('/');

    const callback = await call(`${location.pathname}${location.search}`, { headers: { cookie: cookieHeader([linkCookie]) } });
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/?linked=instacart');
    const cookies = setCookies(callback);
    const session = cookies.find((c) => c.name === '__Host-tg_session')!;
    const cleared = cookies.find((c) => c.name === '__Host-tg_link')!;
    expect(session.attributes.get('samesite')).toBe('Strict');
    for (const cookie of cookies) {
      expect(cookie.name.startsWith('__Host-')).toBe(true);
      expect(cookie.attributes.has('secure') && cookie.attributes.has('httponly')).toBe(true);
      expect(cookie.attributes.get('path')).toBe('/');
      expect(cookie.attributes.has('domain')).toBe(false);
    }
    expect(cleared.attributes.get('max-age')).toBe('0');

    const me = await call('/api/instacart/v2/fulfillment/users/self', { headers: browser({ cookie: cookieHeader([session]) }) });
    expect(me.status).toBe(200);
    await expect(me.json()).resolves.toMatchObject({ id: expect.any(Number) });
    const status = await call('/link/instacart/status', { headers: { cookie: cookieHeader([session]) } });
    await expect(status.json()).resolves.toMatchObject({ linked: true });

    const unlink = await call('/link/instacart/unlink', { method: 'POST', headers: browser({ cookie: cookieHeader([session]) }) });
    expect(unlink.status).toBe(200);
    const after = await call('/api/instacart/v2/fulfillment/users/self', { headers: browser({ cookie: cookieHeader([session]) }) });
    expect(after.status).toBe(401);
  });

  it('a session route without a linked session is refused', async () => {
    const response = await call('/api/instacart/v2/fulfillment/users/self', { headers: browser() });
    expect(response.status).toBe(401);
    await expect(response.json()).resolves.toMatchObject({ error: 'not_linked' });
  });
});

describe('the page a BFF link goes back to', () => {
  it('return_to: the storefront page it started from, with the outcome added to its own query', async () => {
    const { location, linkCookie } = await startBff(ORIGIN, `?return_to=${encodeURIComponent('/embed/example.html?cart=7&linked=old')}`);
    const callback = await call(`${location.pathname}${location.search}`, { headers: { cookie: cookieHeader([linkCookie]) } });
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/embed/example.html?cart=7&linked=instacart');
  });

  it('a refused callback goes back to that page too, with the error code', async () => {
    const { location, linkCookie } = await startBff(ORIGIN, '?return_to=/embed/example.html');
    const forged = new URL(location);
    forged.searchParams.set('state', 'forged-state-value');
    const callback = await call(`${forged.pathname}${forged.search}`, { headers: { accept: 'text/html', cookie: cookieHeader([linkCookie]) } });
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/embed/example.html?link_error=ERR_STATE_MISMATCH&vendor=instacart');
  });

  it('never leaves the site: anything but a path of the Worker\'s origin goes back to /', async () => {
    const hostile = [
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example/',
      '/.//evil.example',
      '/..//evil.example',
      '/%2e//evil.example',
      'javascript:alert(1)',
      'evil.example',
      '/shop\r\nSet-Cookie: x=1',
      '/link/instacart/start',
      '/api/instacart/v2/fulfillment/users/self',
      `/${'a'.repeat(2000)}`,
      '',
    ];
    for (const value of hostile) expect(returnPathOf(value, ORIGIN), JSON.stringify(value)).toBe('/');
    expect(returnPathOf(null, ORIGIN)).toBe('/');
    expect(returnPathOf('/embed/example.html', ORIGIN)).toBe('/embed/example.html');
    expect(returnPathOf('/shop?q=a%20b&link_error=X&vendor=y', ORIGIN)).toBe('/shop?q=a+b');

    const { location, linkCookie } = await startBff(ORIGIN, `?return_to=${encodeURIComponent('/.//evil.example')}`);
    const callback = await call(`${location.pathname}${location.search}`, { headers: { cookie: cookieHeader([linkCookie]) } });
    expect(callback.headers.get('location')).toBe('/?linked=instacart');
  });
});

describe('state and transaction checks (rows 1, 4, 5)', () => {
  it('no cookie, no state, a wrong state: each 4xx, and the token endpoint is never called', async () => {
    const { location, linkCookie } = await startBff();
    const code = location.searchParams.get('code')!;
    const state = location.searchParams.get('state')!;
    const before = (await sandboxStats()).tokenRequests['instacart']!;
    const noCookie = await call(`/link/instacart/callback?code=${code}&state=${state}`);
    expect(noCookie.status).toBe(400);
    const noState = await call(`/link/instacart/callback?code=${code}`, { headers: { cookie: cookieHeader([linkCookie]) } });
    expect(noState.status).toBe(400);
    await expect(noState.json()).resolves.toMatchObject({ reason: 'ERR_STATE_MISSING' });
    // Neither made a token request.
    expect((await sandboxStats()).tokenRequests['instacart']! - before).toBe(0);

    const second = await startBff();
    const before2 = (await sandboxStats()).tokenRequests['instacart']!;
    const wrong = await call(`/link/instacart/callback?code=${second.location.searchParams.get('code')}&state=forged`, { headers: { cookie: cookieHeader([second.linkCookie]) } });
    expect(wrong.status).toBe(400);
    await expect(wrong.json()).resolves.toMatchObject({ reason: 'ERR_STATE_MISMATCH' });
    expect((await sandboxStats()).tokenRequests['instacart']! - before2).toBe(0);
  });

  it('a replayed callback finds the transaction consumed and makes no second token request (row 5)', async () => {
    const { location, linkCookie } = await startBff();
    const path = `${location.pathname}${location.search}`;
    expect((await call(path, { headers: { cookie: cookieHeader([linkCookie]) } })).status).toBe(303);
    const before = (await sandboxStats()).tokenRequests['instacart']!;
    const replay = await call(path, { headers: { cookie: cookieHeader([linkCookie]) } });
    expect(replay.status).toBe(400);
    await expect(replay.json()).resolves.toMatchObject({ reason: 'ERR_NO_TRANSACTION' });
    expect((await sandboxStats()).tokenRequests['instacart']! - before).toBe(0);
  });

  it("one vendor's callback is refused on another vendor's route (row 4)", async () => {
    const { location, linkCookie } = await startBff();
    // Instacart's code and state presented on the standard server's callback: no such transaction there.
    // An iss where Instacart's configuration names no issuer is refused as unverifiable (ERR_ISSUER_UNKNOWN).
    // Counted over every vendor: a code exchanged at the other route's server would count under oauth2.
    const tokenRequests = async (): Promise<number> => Object.values((await sandboxStats()).tokenRequests).reduce((sum, count) => sum + count, 0);
    const before = await tokenRequests();
    const onOther = await call(`/link/oauth2/callback${location.search}`, { headers: { cookie: cookieHeader([linkCookie]) } });
    expect(onOther.status).toBe(400);
    await expect(onOther.json()).resolves.toMatchObject({ reason: 'ERR_NO_TRANSACTION' });
    const notLinkable = await call(`/link/shopware/callback${location.search}`, { headers: { cookie: cookieHeader([linkCookie]) } });
    expect(notLinkable.status).toBe(404);
    const forgedIss = await call(`${location.pathname}${location.search}&iss=${encodeURIComponent('https://evil.example')}`, { headers: { cookie: cookieHeader([linkCookie]) } });
    expect(forgedIss.status).toBe(400);
    await expect(forgedIss.json()).resolves.toMatchObject({ reason: 'ERR_ISSUER_UNKNOWN' });
    expect((await tokenRequests()) - before).toBe(0);
  });

  it('the redirect URI is configuration: a spoofed Host changes nothing (row 3)', async () => {
    const { location } = await startBff('http://evil.example');
    expect(location.origin).toBe(ORIGIN);
  });
});

describe('token-mediating linking (row 7)', () => {
  it('the browser runs PKCE, the Worker adds the secret, and only the access token comes back', async () => {
    const config = await (await call('/link/instacart/config')).json() as { redirectUri: string; tokenUrl: string };
    expect(config.redirectUri).toBe(`${ORIGIN}/callback`);
    const { verifier, challenge } = await createPkce();
    const state = createState();
    const authorize = await call('/link/instacart/authorize', {
      method: 'POST',
      headers: browser({ 'content-type': 'application/json' }),
      body: JSON.stringify({ state, code_challenge: challenge, code_challenge_method: 'S256' }),
    });
    expect(authorize.status).toBe(200);
    const { callbackUrl } = (await authorize.json()) as { callbackUrl: string };
    const callback = new URL(callbackUrl);
    expect(callback.searchParams.get('state')).toBe(state);

    const exchange = await call('/token/instacart', {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: config.redirectUri }),
    });
    expect(exchange.status).toBe(200);
    expect(exchange.headers.get('cache-control')).toBe('no-store');
    const body = (await exchange.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    const session = setCookies(exchange).find((c) => c.name === '__Host-tg_session')!;
    expect(session.attributes.get('samesite')).toBe('Strict');

    const renewed = await call('/token/instacart', {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader([session]) },
      body: 'grant_type=refresh_token',
    });
    expect(renewed.status).toBe(200);
    expect(await renewed.json()).not.toHaveProperty('refresh_token');
  });

  it('a foreign origin cannot use the token endpoint, and a wrong verifier is refused', async () => {
    const foreign = await call('/token/instacart', { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token' });
    expect(foreign.status).toBe(403);
    const { challenge } = await createPkce();
    const authorize = await call('/link/instacart/authorize', { method: 'POST', headers: browser({ 'content-type': 'application/json' }), body: JSON.stringify({ state: 's', code_challenge: challenge, code_challenge_method: 'S256' }) });
    const code = new URL(((await authorize.json()) as { callbackUrl: string }).callbackUrl).searchParams.get('code')!;
    const other = await createPkce();
    const exchange = await call('/token/instacart', {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: other.verifier, redirect_uri: `${ORIGIN}/callback` }),
    });
    expect(exchange.status).toBe(400);
    await expect(exchange.json()).resolves.toMatchObject({ error: 'invalid_grant' });
  });

  it('no answer carries a refresh token or a sandbox secret', () => {
    for (const answer of seen) {
      expect(answer.body).not.toMatch(/refresh_token|sandbox-secret/);
    }
  });
});
