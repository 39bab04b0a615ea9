import { describe, expect, inject, it } from 'vitest';
import { followAuthorization } from '../conformance/follow.js';
import { cookieOf, link, ORIGIN, worker } from './helpers.js';

// The Worker's JWT client authentication (RFC 7523, private_key_jwt) with the key in a Worker secret,
// and its BFF linking through pushed authorization requests (RFC 9126), at oidc-provider. The clients
// are registered for private_key_jwt only, so a token that comes back proves the assertion.
/** What global-setup.ts provides (its ProvidedContext types need Node's, which this workerd file does not load). */
const provided = inject as unknown as (key: 'oidcIssuer' | 'oidcClientKeyJwk' | 'oidcUnregisteredKeyJwk' | 'oidcParKeyPem') => string;
const issuer = provided('oidcIssuer');
/** The private parts of the keys in the Worker's secrets: they must never appear in an answer. */
const privateParts = [provided('oidcClientKeyJwk'), provided('oidcUnregisteredKeyJwk')].map((text) => (JSON.parse(text) as { d: string }).d);
const pemBody = provided('oidcParKeyPem').split('\n')[1]!;

function expectNoKeyMaterial(text: string): void {
  for (const part of [...privateParts, pemBody]) expect(text).not.toContain(part);
}

async function callsAsTheUser(done: Response): Promise<void> {
  const session = cookieOf(done, '__Host-tg_session')!;
  const me = await worker.fetch(`${ORIGIN}/api/${new URL(done.headers.get('location')!, ORIGIN).searchParams.get('linked')}/me`, { headers: { cookie: session, origin: ORIGIN, 'x-tokengate-csrf': '1' } });
  expect(me.status).toBe(200);
  await expect(me.json()).resolves.toMatchObject({ sub: 'test-user' });
}

describe('private_key_jwt from a Worker secret', () => {
  it('BFF: a client registered for private_key_jwt links with the JWK in OIDC_CLIENT_KEY and calls as the user', async () => {
    const { authorize, done } = await link('oidc-jwt');
    // Not pushed: the full request is in the browser's URL, without any client credential.
    expect(authorize.searchParams.get('client_id')).toBe('tokengate-worker-jwt');
    expect(authorize.searchParams.get('code_challenge')).toBeTruthy();
    expect([...authorize.searchParams.keys()]).not.toContain('client_assertion');
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/?linked=oidc-jwt');
    await callsAsTheUser(done);
  });

  it('a key the client never registered: the code exchange is refused (invalid_client) and the answer holds no key material', async () => {
    const { done } = await link('oidc-badkey');
    expect(done.status).toBe(502);
    const text = await done.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'link_failed', reason: 'invalid_client' });
    expectNoKeyMaterial(text);
    const status = await (await worker.fetch(`${ORIGIN}/link/oidc-badkey/status`)).text();
    expectNoKeyMaterial(status);
  });
});

describe('PAR in BFF linking', () => {
  it('the Worker pushes with the assertion (PEM key, aud = issuer); the browser gets only client_id + request_uri; the link completes', async () => {
    const { authorize, done } = await link('oidc-par');
    expect(authorize.origin + authorize.pathname).toBe(`${issuer}/auth`);
    expect([...authorize.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(authorize.searchParams.get('client_id')).toBe('tokengate-worker-par');
    expect(authorize.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/?linked=oidc-par');
    await callsAsTheUser(done);
  });

  it('the server does require it: the same client unpushed is refused at the authorization endpoint', async () => {
    const unpushed = new URL(`${issuer}/auth`);
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: 'tokengate-worker-par', redirect_uri: `${ORIGIN}/link/oidc-par/callback`, scope: 'openid', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) unpushed.searchParams.set(name, value);
    const answer = new URL(await followAuthorization(unpushed.href));
    expect(answer.searchParams.get('error')).toBe('invalid_request');
  });

  it('a request_uri is single-use: a second authorization with it is refused', async () => {
    const start = await worker.fetch(`${ORIGIN}/link/oidc-par/start`, { redirect: 'manual' });
    const location = start.headers.get('location')!;
    const first = new URL(await followAuthorization(location));
    expect(first.searchParams.get('code')).toBeTruthy();
    const again = new URL(await followAuthorization(location));
    expect(again.searchParams.get('code')).toBeNull();
    expect(again.searchParams.get('error')).toBe('invalid_request_uri');
  });
});
