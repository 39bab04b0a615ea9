import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import { dpopAth } from 'tokengate';
import { TokenCoordinator } from '../../worker/coordinator.js';
import { open, parseKeyRing } from '../../worker/crypto.js';
import { dpopKeyName, loadDpopKey } from '../../worker/dpop-key.js';
import type { Env } from '../../worker/env.js';
import { coordinator } from '../../worker/token-cache.js';
import { REQUEST_LOG_PATH } from '../conformance/request-log.js';
import { cookieOf, link, ORIGIN, worker } from './helpers.js';

// DPoP (RFC 9449) in the Worker, at oidc-provider: a client registered with dpop_bound_access_tokens
// gets a token only with a proof, and its userinfo endpoint checks each proof (signature, jwk
// binding, htm, htu, ath, jti replay, nonce). The key is the credential's, made and sealed in its
// Durable Object, which alone signs.

const provided = inject as unknown as (key: 'oidcIssuer' | 'oidcNonceIssuer' | 'oidcDpopSecret') => string;
const issuer = provided('oidcIssuer');
const nonceIssuer = provided('oidcNonceIssuer');
const ring = parseKeyRing((env as unknown as { TOKENGATE_KEYS: string }).TOKENGATE_KEYS);

interface Logged {
  method: string;
  path: string;
  dpop?: string;
  scheme?: string;
  status?: number;
}
/** What the server has seen so far (its own log, read over HTTP: it runs in Node). */
const serverLog = async (at = issuer): Promise<Logged[]> => (await fetch(`${at}${REQUEST_LOG_PATH}`)).json();

const decodePart = (part: string) => JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
/** A proof's header and payload. */
const proofOf = (jwt: string) => {
  const [header, payload] = jwt.split('.');
  return { header: decodePart(header!) as { typ: string; alg: string; jwk: Record<string, string> }, payload: decodePart(payload!) };
};

const browser = (session: string) => ({ cookie: session, origin: ORIGIN, 'x-tokengate-csrf': '1' });
/** A session's Durable Object, found as the Worker finds it (a keyed hash of the id names it). */
const sessionStub = (session: string) => coordinator(env as unknown as Env, { kind: 'session', vendor: 'oidc-dpop', session: session.split('=')[1]! });

/** Links `vendor` the BFF way and answers the session cookie and what the server saw meanwhile. */
async function linkedSession(vendor: string, at = issuer): Promise<{ session: string; seen: Logged[] }> {
  const before = (await serverLog(at)).length;
  const { done } = await link(vendor);
  expect(done.status).toBe(303);
  return { session: cookieOf(done, '__Host-tg_session')!, seen: (await serverLog(at)).slice(before) };
}

describe('DPoP in the Worker at oidc-provider', () => {
  it('BFF: the code exchange sends a proof, and userinfo takes the Worker’s DPoP token with its proof', async () => {
    const { session, seen } = await linkedSession('oidc-dpop');
    const exchange = seen.filter((r) => r.method === 'POST' && r.path === '/token');
    expect(exchange).toHaveLength(1);
    expect(exchange[0]).toMatchObject({ status: 200, dpop: expect.any(String) });
    const tokenProof = proofOf(exchange[0]!.dpop!);
    expect(tokenProof.header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } });
    expect(tokenProof.header.jwk).not.toHaveProperty('d');
    expect(tokenProof.payload).toMatchObject({ htm: 'POST', htu: `${issuer}/token` });

    const before = (await serverLog()).length;
    const me = await worker.fetch(`${ORIGIN}/api/oidc-dpop/me`, { headers: browser(session) });
    expect(me.status).toBe(200);
    await expect(me.json()).resolves.toMatchObject({ sub: 'test-user' });
    const calls = (await serverLog()).slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'GET', path: '/me', scheme: 'DPoP', status: 200 });
    const resourceProof = proofOf(calls[0]!.dpop!);
    // The key the token was bound to at the exchange, the URL without query, and ath for the token.
    expect(resourceProof.header.jwk).toEqual(tokenProof.header.jwk);
    expect(resourceProof.payload).toMatchObject({ htm: 'GET', htu: `${issuer}/me`, ath: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    // Nothing of the proof reaches the caller.
    expect(me.headers.get('dpop-nonce')).toBeNull();
  });

  it('the control: the same client without DPoP is refused its token, so the link fails', async () => {
    const before = (await serverLog()).length;
    const { done } = await link('oidc-nodpop');
    expect(done.status).toBe(502);
    const exchange = (await serverLog()).slice(before).filter((r) => r.path === '/token');
    expect(exchange).toHaveLength(1);
    expect(exchange[0]).toMatchObject({ method: 'POST', status: 400 });
    expect(exchange[0]).not.toHaveProperty('dpop');
  });

  it('every call gets a new proof: a fresh jti and iat, the same key, ath of the current token', async () => {
    const { session } = await linkedSession('oidc-dpop');
    const before = (await serverLog()).length;
    for (let i = 0; i < 3; i++) expect((await worker.fetch(`${ORIGIN}/api/oidc-dpop/me`, { headers: browser(session) })).status).toBe(200);
    const proofs = (await serverLog())
      .slice(before)
      .filter((r) => r.path === '/me')
      .map((r) => proofOf(r.dpop!));
    expect(proofs).toHaveLength(3);
    expect(new Set(proofs.map((p) => p.payload['jti'])).size).toBe(3);
    expect(new Set(proofs.map((p) => JSON.stringify(p.header.jwk))).size).toBe(1);
    expect(new Set(proofs.map((p) => p.payload['ath'])).size).toBe(1);
  });

  it('each credential has its own key: two sessions and the app credential sign with three keys', async () => {
    const [a, b] = [await linkedSession('oidc-dpop'), await linkedSession('oidc-dpop')];
    const jwkOf = (seen: Logged[]) => JSON.stringify(proofOf(seen.find((r) => r.path === '/token')!.dpop!).header.jwk);
    // The app credential (client_credentials): its token request and its API call carry its own key.
    const before = (await serverLog()).length;
    const app = await worker.fetch(`${ORIGIN}/api/oidc-dpop/me/app`);
    await app.body?.cancel();
    const seen = (await serverLog()).slice(before);
    const token = seen.find((r) => r.path === '/token' && r.method === 'POST')!;
    expect(token).toMatchObject({ status: 200, dpop: expect.any(String) });
    const call = seen.find((r) => r.path === '/me/app')!;
    expect(call.scheme).toBe('DPoP');
    expect(proofOf(call.dpop!).header.jwk).toEqual(proofOf(token.dpop!).header.jwk);
    expect(new Set([jwkOf(a.seen), jwkOf(b.seen), jwkOf(seen)]).size).toBe(3);
  });

  it('the key is sealed at rest, survives a restarted object, cannot be exported, and unlink forgets it', async () => {
    const { session, seen } = await linkedSession('oidc-dpop');
    const bound = proofOf(seen.find((r) => r.path === '/token')!.dpop!).header.jwk;
    const stub = await sessionStub(session);
    const name = dpopKeyName('oidc-dpop');
    const { raw, restartedJwk, exportable } = await runInDurableObject(stub, async (_instance: TokenCoordinator, state) => {
      const raw = (await state.storage.get<string>(name))!;
      // A new instance over the same storage is what an evicted and restarted object is.
      const restarted = new TokenCoordinator(state, env as never);
      const proof = await restarted.dpopProof('oidc-dpop', 'GET', `${issuer}/me`, 'a-token');
      if (!proof.ok) throw new Error(proof.code);
      const loaded = await loadDpopKey(state.storage, ring, 'oidc-dpop', new Map());
      const exportable = await crypto.subtle.exportKey('jwk', loaded.keyPair.privateKey as CryptoKey).then(() => true, () => false);
      return { raw, restartedJwk: proofOf(proof.value).header.jwk, exportable };
    });
    const opened = JSON.parse((await open(ring, name, raw))!) as Record<string, string>;
    expect(raw).toMatch(/^v1\./);
    expect(raw).not.toContain(opened['d']!);
    expect({ x: opened['x'], y: opened['y'] }).toEqual({ x: bound['x'], y: bound['y'] });
    expect(restartedJwk).toEqual(bound);
    expect(exportable).toBe(false);

    const unlinked = await worker.fetch(`${ORIGIN}/link/oidc-dpop/unlink`, { method: 'POST', headers: browser(session) });
    expect(unlinked.status).toBe(200);
    const left = await runInDurableObject(stub, (_instance: TokenCoordinator, state) => state.storage.get(name));
    expect(left).toBeUndefined();
  });

  it('the object signs only for its DPoP vendor’s API', async () => {
    const { session } = await linkedSession('oidc-dpop');
    const outcomes = await runInDurableObject(await sessionStub(session), async (instance: TokenCoordinator) => [
      await instance.dpopProof('oidc-dpop', 'GET', 'https://elsewhere.example/me', 'a-token'),
      await instance.dpopProof('oidc', 'GET', `${issuer}/me`, 'a-token'),
    ]);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ ok: false, code: 'ERR_INVALID_CONFIG' });
  });

  it('ath is the SHA-256 of the token the call carries (checked against a proof the object signs)', async () => {
    const { session } = await linkedSession('oidc-dpop');
    const proof = await runInDurableObject(await sessionStub(session), (instance: TokenCoordinator) => instance.dpopProof('oidc-dpop', 'GET', `${issuer}/me?x=1#f`, 'a-token'));
    if (!proof.ok) throw new Error(proof.code);
    expect(proofOf(proof.value).payload).toMatchObject({ htm: 'GET', htu: `${issuer}/me`, ath: await dpopAth('a-token') });
  });

  it('token-mediating linking is refused for a DPoP vendor before any vendor call: a page could not use its tokens', async () => {
    const before = (await serverLog()).length;
    const answer = await worker.fetch(`${ORIGIN}/token/oidc-dpop`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'c', code_verifier: 'v'.repeat(43), redirect_uri: `${ORIGIN}/callback` }),
    });
    expect(answer.status).toBe(400);
    await expect(answer.json()).resolves.toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('DPoP') });
    expect((await serverLog()).slice(before)).toEqual([]);
  });
});

describe('DPoP nonces (a server that requires them at every endpoint)', () => {
  it('a nonce challenge costs exactly one extra request, and the next request already carries the nonce', async () => {
    const { session, seen } = await linkedSession('oidc-dpop-nonce', nonceIssuer);
    const exchange = seen.filter((r) => r.path === '/token');
    // The first exchange has no nonce and is refused with use_dpop_nonce; the one retry has it.
    expect(exchange.map((r) => r.status)).toEqual([400, 200]);
    const [first, second] = exchange.map((r) => proofOf(r.dpop!).payload);
    expect(first).not.toHaveProperty('nonce');
    expect(second).toMatchObject({ nonce: expect.any(String) });
    expect(second!['jti']).not.toBe(first!['jti']);

    // The API call, on another origin of the same server: challenged once, retried once, with a new jti.
    let before = (await serverLog(nonceIssuer)).length;
    expect((await worker.fetch(`${ORIGIN}/api/oidc-dpop-nonce/me`, { headers: browser(session) })).status).toBe(200);
    const challenged = (await serverLog(nonceIssuer)).slice(before);
    expect(challenged.map((r) => `${r.path} ${r.status}`)).toEqual(['/me 401', '/me 200']);
    const [bare, retried] = challenged.map((r) => proofOf(r.dpop!).payload);
    expect(bare).not.toHaveProperty('nonce');
    expect(retried).toMatchObject({ nonce: expect.any(String) });
    expect(retried!['jti']).not.toBe(bare!['jti']);

    // The next call carries the nonce from the start: one request.
    before = (await serverLog(nonceIssuer)).length;
    expect((await worker.fetch(`${ORIGIN}/api/oidc-dpop-nonce/me`, { headers: browser(session) })).status).toBe(200);
    const next = (await serverLog(nonceIssuer)).slice(before);
    expect(next.map((r) => `${r.path} ${r.status}`)).toEqual(['/me 200']);
    expect(proofOf(next[0]!.dpop!).payload).toMatchObject({ nonce: expect.any(String) });
  });
});
