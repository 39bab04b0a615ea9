import { exports } from 'cloudflare:workers';
import { completeAuthorization, startAuthorization } from 'tokengate';
import { oauth2 } from 'tokengate/profiles';
import { describe, expect, it } from 'vitest';
import { followAuthorization } from '../conformance/follow.js';

// Both linking modes of the Worker against a real authorization server nobody here wrote
// (oidc-provider, with RFC 9207 iss): the Worker holds the client secret and the refresh token.
const worker = (exports as unknown as { default: { fetch(input: string | Request, init?: RequestInit): Promise<Response> } }).default;
const ORIGIN = 'http://127.0.0.1:8787';

const cookieOf = (response: Response, name: string): string | undefined =>
  response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .find((pair) => pair.startsWith(`${name}=`));

describe('linking through the Worker at oidc-provider', () => {
  it('BFF: start → provider login and consent → callback → calls as the user', async () => {
    const start = await worker.fetch(`${ORIGIN}/link/oidc/start`, { redirect: 'manual' });
    expect(start.status).toBe(303);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${ORIGIN}/link/oidc/callback`);
    const linkCookie = cookieOf(start, '__Host-tg_link')!;

    const callback = new URL(await followAuthorization(authorize.href));
    expect(callback.searchParams.get('iss')).toBeTruthy();
    const done = await worker.fetch(`${ORIGIN}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { cookie: linkCookie } });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/?linked=oidc');
    const session = cookieOf(done, '__Host-tg_session')!;

    const me = await worker.fetch(`${ORIGIN}/api/oidc/me`, { headers: { cookie: session, origin: ORIGIN, 'x-tokengate-csrf': '1' } });
    expect(me.status).toBe(200);
    await expect(me.json()).resolves.toMatchObject({ sub: 'test-user' });
  });

  it('BFF: a callback whose iss was changed is refused before any token request (mix-up)', async () => {
    const start = await worker.fetch(`${ORIGIN}/link/oidc/start`, { redirect: 'manual' });
    const callback = new URL(await followAuthorization(start.headers.get('location')!));
    callback.searchParams.set('iss', 'http://127.0.0.1:1');
    const done = await worker.fetch(`${ORIGIN}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { cookie: cookieOf(start, '__Host-tg_link')! } });
    expect(done.status).toBe(400);
    await expect(done.json()).resolves.toMatchObject({ reason: 'ERR_ISSUER_MISMATCH' });
  });

  it('token-mediating: the client runs PKCE, the Worker adds the secret and keeps the refresh token', () => mediatedLink('oidc'));

  // oidc-jwt: the Worker adds a private_key_jwt assertion (its key a Worker secret) to the exchange and the refresh.
  it('token-mediating (oidc-jwt): the client runs PKCE, the Worker adds its client assertion and keeps the refresh token', () => mediatedLink('oidc-jwt'));
});

/** A token-mediating link of `vendor` as a page would run it, then a renewal through the session cookie. */
async function mediatedLink(vendor: string): Promise<void> {
  const config = (await (await worker.fetch(`${ORIGIN}/link/${vendor}/config`)).json()) as { clientId: string; tokenUrl: string; authorizeUrl: string; redirectUri: string; issuer: string; requireIss: boolean };
  expect(config).toMatchObject({ redirectUri: `${ORIGIN}/callback`, requireIss: true });
  // The page's fetch: same origin, so the browser sends Origin and the session cookie.
  let session: string | undefined;
  const pageFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    request.headers.set('origin', ORIGIN);
    if (session) request.headers.set('cookie', session);
    const response = await worker.fetch(request);
    session ??= cookieOf(response, '__Host-tg_session');
    return response;
  };
  const profile = oauth2({ clientId: config.clientId, tokenUrl: config.tokenUrl, authorizeUrl: config.authorizeUrl, issuer: config.issuer, requireIss: config.requireIss, scope: 'openid read', grant: { grant_type: 'refresh_token' }, fetch: pageFetch });
  const tx = await startAuthorization(profile, { redirectUri: config.redirectUri });
  const tokens = await completeAuthorization(profile, tx, await followAuthorization(tx.url));
  expect(tokens.accessToken.length).toBeGreaterThan(10);
  expect(tokens).not.toHaveProperty('refreshToken');
  expect(session).toMatch(/^__Host-tg_session=/);
  // Renewal goes through the session cookie; the refresh token never leaves the Worker.
  const renewed = await pageFetch(config.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token' });
  expect(renewed.status).toBe(200);
  expect(await renewed.json()).not.toHaveProperty('refresh_token');
}
