import { dpopFetch, TokenGateError, type DPoP } from 'tokengate';
import type { Config } from '../config.js';
import type { Env } from '../env.js';
import { coordinator, type Credential } from '../token-cache.js';

/**
 * The API servers' latest DPoP nonces in this isolate, by origin (RFC 9449 §9). Only configured
 * vendor upstreams are ever called, so the map stays as small as the configuration.
 */
const nonces = new Map<string, string>();

/**
 * Sends a proxied call with a DPoP-bound token (RFC 9449 §7): `Authorization: DPoP <token>` (set by
 * the caller in `init`) and a `DPoP` proof signed by the credential's Durable Object, which alone holds
 * the key. A new proof for every attempt, each with a fresh `jti`; a `use_dpop_nonce` challenge is
 * retried once with the server's nonce, never in a loop (the core's `dpopFetch`).
 */
export function sendWithDpop(env: Env, config: Config, credential: Credential, url: string, init: RequestInit): Promise<Response> {
  // Named once per call (a keyed hash of a session's id): every proof of the call goes to that object.
  const stub = coordinator(env, credential);
  const proof: DPoP['proof'] = async (method, target, { accessToken, nonce } = {}) => {
    const outcome = await (await stub).dpopProof(credential.vendor, method, String(target), accessToken ?? '', nonce);
    if (!outcome.ok) throw new TokenGateError(outcome.code, outcome.message);
    return outcome.value;
  };
  return dpopFetch(proof, nonces, config.fetch)(url, init);
}
