import { describe, expect, it } from 'vitest';
import { deleteDpopKeyPair, loadDpopKeyPair } from '../../src/browser/index.js';
import { createDpop, type WebCryptoKeyPair } from '../../src/index.js';

// Runs in Chromium only: the key pair lives in the real IndexedDB.
describe('the DPoP key in IndexedDB', () => {
  it('survives a reload: a new load of the same name, from a fresh handle, is the same key, and its private half cannot be exported', async () => {
    const database = `tokengate-dpop-test-${crypto.randomUUID()}`;
    const first = await createDpop({ keyPair: await loadDpopKeyPair('shop', { database }) });
    // What a reloaded page does: nothing in memory, only IndexedDB.
    const reloaded = await createDpop({ keyPair: await loadDpopKeyPair('shop', { database }) });
    expect(reloaded.jwk).toEqual(first.jwk);
    const proof = await reloaded.proof('GET', 'https://api.example/me');
    const [h, p, s] = proof.split('.') as [string, string, string];
    const signature = Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const publicKey = await crypto.subtle.importKey('jwk', first.jwk as JsonWebKey, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    await expect(crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, publicKey, signature, new TextEncoder().encode(`${h}.${p}`))).resolves.toBe(true);
    expect(reloaded.keyPair.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', reloaded.keyPair.privateKey as CryptoKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', reloaded.keyPair.privateKey as CryptoKey)).rejects.toThrow();
  });

  it('two tabs loading at once get one key; another name gets another; deleting starts over', async () => {
    const database = `tokengate-dpop-test-${crypto.randomUUID()}`;
    const [a, b] = await Promise.all([loadDpopKeyPair('shop', { database }), loadDpopKeyPair('shop', { database })]);
    const jwk = async (pair: WebCryptoKeyPair) => (await createDpop({ keyPair: pair })).jwk;
    expect(await jwk(a)).toEqual(await jwk(b));
    expect(await jwk(await loadDpopKeyPair('other', { database }))).not.toEqual(await jwk(a));
    await deleteDpopKeyPair('shop', { database });
    expect(await jwk(await loadDpopKeyPair('shop', { database }))).not.toEqual(await jwk(a));
  });
});
