import { createDpop, type DPoP } from 'tokengate';
import { open, seal, type KeyRing } from './crypto.js';

const ES256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** The Durable Object storage key of a credential's DPoP key for `vendor`. */
export const dpopKeyName = (vendor: string): string => `dpop:${vendor}`;

/**
 * A credential's DPoP key (RFC 9449) for one vendor, from its Durable Object's storage, or a new one
 * kept there first. The private key is stored as a JWK sealed like the tokens (AES-GCM, the storage
 * key as additional data; SECURITY rows 16 and 26), so an evicted or restarted object signs with the
 * same key its tokens are bound to. In memory it is a non-extractable `CryptoKey`: the extractable
 * handle that made it is dropped once the sealed copy is written. It never leaves the object: the
 * isolates ask the object for each proof.
 *
 * `nonces` is the object's map of server nonces by origin (token endpoint and API alike).
 */
export async function loadDpopKey(storage: DurableObjectStorage, ring: KeyRing, vendor: string, nonces: Map<string, string>): Promise<DPoP> {
  const name = dpopKeyName(vendor);
  const sealed = await storage.get<string>(name);
  let jwk: JsonWebKey | undefined;
  if (typeof sealed === 'string') {
    const text = await open(ring, name, sealed);
    jwk = text === undefined ? undefined : (JSON.parse(text) as JsonWebKey);
  }
  if (jwk === undefined) {
    // Extractable only so that it can be sealed; the copy in use is imported again, non-extractable.
    const made = (await crypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair;
    jwk = (await crypto.subtle.exportKey('jwk', made.privateKey)) as JsonWebKey;
    // Stored before its first proof: a token bound to a key that was not kept would be lost with the object.
    await storage.put(name, await seal(ring, name, JSON.stringify(jwk)));
  }
  const { kty, crv, x, y } = jwk as { kty: string; crv: string; x: string; y: string };
  const [privateKey, publicKey] = await Promise.all([
    crypto.subtle.importKey('jwk', jwk, ES256, false, ['sign']),
    crypto.subtle.importKey('jwk', { kty, crv, x, y } as JsonWebKey, ES256, true, ['verify']),
  ]);
  return createDpop({ keyPair: { privateKey, publicKey }, nonces });
}
