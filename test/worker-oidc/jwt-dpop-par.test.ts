import { describe, expect, inject, it } from 'vitest';
import { REQUEST_LOG_PATH } from '../conformance/request-log.js';
import { cookieOf, link, ORIGIN, worker } from './helpers.js';

// private_key_jwt + DPoP + PAR through the Worker, at an oidc-provider that requires DPoP nonces at
// every endpoint: the vendor's options.dpop with secrets.clientKey and options.parUrl. A nonce challenge
// is retried once, and the retry carries a new client assertion (a jti is accepted once, RFC 7523 §3).

const nonceIssuer = (inject as unknown as (key: 'oidcNonceIssuer') => string)('oidcNonceIssuer');

interface Logged {
  method: string;
  path: string;
  dpop?: string;
  status?: number;
}
const serverLog = async (): Promise<Logged[]> => (await fetch(`${nonceIssuer}${REQUEST_LOG_PATH}`)).json();
const browser = (session: string) => ({ cookie: session, origin: ORIGIN, 'x-tokengate-csrf': '1' });

describe('private_key_jwt + DPoP + PAR in the Worker at a server that requires DPoP nonces', () => {
  it('links (pushed request, exchange answered after one nonce retry), calls the API with a DPoP token, and unlinks with revocation', async () => {
    const before = (await serverLog()).length;
    const { authorize, done } = await link('oidc-jwt-dpop');
    expect(authorize.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(done.status).toBe(303);
    const session = cookieOf(done, '__Host-tg_session')!;
    const posts = (await serverLog()).slice(before).filter((r) => r.method === 'POST');
    // PAR from the Worker (no proof there), then the exchange: a nonce challenge and one retry that is accepted.
    expect(posts.map((r) => [r.path, r.status])).toEqual([
      ['/request', 201],
      ['/token', 400],
      ['/token', 200],
    ]);
    expect(posts.slice(1).every((r) => r.dpop !== undefined)).toBe(true);

    const me = await worker.fetch(`${ORIGIN}/api/oidc-jwt-dpop/me`, { headers: browser(session) });
    expect(me.status).toBe(200);
    await expect(me.json()).resolves.toMatchObject({ sub: 'test-user' });

    const unlinked = await worker.fetch(`${ORIGIN}/link/oidc-jwt-dpop/unlink`, { method: 'POST', headers: browser(session) });
    await expect(unlinked.json()).resolves.toMatchObject({ linked: false, revocation: 'revoked' });
  });
});
