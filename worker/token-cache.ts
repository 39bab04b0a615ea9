import type { Config } from './config.js';
import { freshTokenRefused, type Failure, type IssuedToken, type Outcome } from './coordinator.js';
import type { Env } from './env.js';
import { credentialHash } from './credential-binding.js';
import { kvTokenStore } from './kv-store.js';
import { coordinatorObject, type Credential } from './object-names.js';
import { log } from './log.js';
import { createTokenMemory } from './token-memory.js';
import { noteVendorWait, retryAfterUntil } from './vendor-wait.js';

/** A token with less than this left is not served from memory or KV: the coordinator renews it. */
const MIN_REMAINING = 5_000;

export type { Credential } from './object-names.js';

/**
 * Per-isolate layer in front of KV for the hot path, for app credentials only. A linked session's
 * token is always asked of the session's Durable Object (strongly consistent), never of this memory
 * or of KV (eventually consistent), so an unlink in any isolate stops every isolate at once.
 */
const memory = createTokenMemory();
/** Per-isolate single-flight: concurrent misses in one isolate make one coordinator call. */
const pending = new Map<string, Promise<Outcome<IssuedToken>>>();

const fresh = (token: IssuedToken | undefined, now: number): token is IssuedToken =>
  token !== undefined && (token.expiresAt === undefined || token.expiresAt - now > MIN_REMAINING);

/** The KV key of a credential's access token (docs/kv-key-schema.md). */
export async function kvKeyOf(credential: Credential): Promise<string> {
  if (credential.kind === 'app') return `tok:app:${credential.vendor}`;
  return `tok:session:${await sessionHash(credential.session)}:${credential.vendor}`;
}

/** Session ids are bearer secrets: KV keys carry a hash of them, never the id. */
export async function sessionHash(session: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`tokengate-session:${session}`)));
  return [...digest.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The credential's Durable Object (worker/object-names.ts names it). */
const coordinator = coordinatorObject;

/**
 * A valid access token for `credential`. An app credential: isolate memory, then KV (eventually
 * consistent, sealed), then its Durable Object, which alone talks to the vendor. A linked session:
 * its Durable Object every time, so that an unlink anywhere is seen everywhere at once: no isolate
 * serves an unlinked session's token from a stale copy (one object per session: no hot spot).
 */
export async function getAccessToken(env: Env, config: Config, credential: Credential): Promise<Outcome<IssuedToken>> {
  const key = await kvKeyOf(credential);
  const app = credential.kind === 'app';
  if (app) {
    const cached = memory.get(key);
    if (fresh(cached, Date.now())) return { ok: true, value: cached };
  }
  let flight = pending.get(key);
  if (flight === undefined) {
    flight = (async (): Promise<Outcome<IssuedToken>> => {
      if (!app) return (await coordinator(env, credential)).sessionToken(credential.vendor, key);
      // Sealed with the hash of the credential it was minted from: one from an old secret is a miss.
      const vendor = config.vendors.get(credential.vendor);
      const context = vendor === undefined ? undefined : await credentialHash(vendor);
      const stored = context === undefined ? undefined : await kvTokenStore(env.TOKENS, config.keys, { context }).get(key).catch(() => undefined);
      if (fresh(stored, Date.now())) return { ok: true, value: stored };
      return (await coordinator(env, credential)).appToken(credential.vendor);
    })().finally(() => pending.delete(key));
    pending.set(key, flight);
  }
  const outcome = await flight;
  if (outcome.ok && app) memory.set(key, outcome.value);
  if (outcome.ok && app && outcome.vendorWaitUntil !== undefined) noteVendorWait(credential.vendor, outcome.vendorWaitUntil);
  return outcome;
}

/**
 * After a vendor's 429 on a proxied call: the credential's object keeps the time for every isolate
 * that asks it for a token, and for the app credential no caller of this isolate calls the vendor
 * until its `Retry-After` has passed (worker/vendor-wait.ts).
 */
export async function noteVendorRetryAfter(env: Env, credential: Credential, retryAfter: string | null): Promise<void> {
  const until = retryAfterUntil(retryAfter);
  if (until === undefined) return;
  if (credential.kind === 'app') noteVendorWait(credential.vendor, until);
  await (await coordinator(env, credential)).noteVendorWait(credential.vendor, until);
}

/** The vendor asked this credential's calls to wait: answered 429 with the time left, nothing sent. */
function vendorWaiting(vendor: string, until: number): Failure {
  return { ok: false, code: 'ERR_VENDOR_WAIT', message: `${vendor} asked for no calls for ${Math.ceil((until - Date.now()) / 1000)} s more`, status: 429, retryAfter: until - Date.now() };
}

/** The app credential's token from this isolate's memory while fresh, with no await (the hot path). */
function warmToken(credential: Credential): IssuedToken | undefined {
  if (credential.kind !== 'app') return undefined;
  const cached = memory.get(`tok:app:${credential.vendor}`);
  return fresh(cached, Date.now()) ? cached : undefined;
}

/**
 * After the upstream refused `accessToken` with a 401: forget it here and ask the coordinator, which
 * drops it only if it is still current (a burst of 401s makes one renewal) and keeps the credential's
 * renewal budget, whatever this isolate saw the token do before (row 23).
 */
export async function renewAccessToken(env: Env, credential: Credential, accessToken: string): Promise<Outcome<IssuedToken>> {
  const key = await kvKeyOf(credential);
  if (memory.get(key)?.accessToken === accessToken) memory.delete(key);
  const outcome = await (await coordinator(env, credential)).renew(credential.vendor, accessToken, credential.kind === 'session', key);
  if (outcome.ok && credential.kind === 'app') memory.set(key, outcome.value);
  return outcome;
}

/**
 * Sends a request with the credential's token; on a 401, renews that exact token once through the
 * coordinator and sends again. A token-getting failure is returned as the outcome.
 */
export async function sendWithToken(
  env: Env,
  config: Config,
  credential: Credential,
  send: (accessToken: string, tokenType: string) => Promise<Response>,
): Promise<Outcome<Response>> {
  const warm = warmToken(credential);
  const token: Outcome<IssuedToken> = warm !== undefined ? { ok: true, value: warm } : await getAccessToken(env, config, credential);
  if (!token.ok) return token;
  if (token.vendorWaitUntil !== undefined && token.vendorWaitUntil > Date.now()) return vendorWaiting(credential.vendor, token.vendorWaitUntil);
  const first = await send(token.value.accessToken, token.value.tokenType);
  if (first.status !== 401) return { ok: true, value: first };
  await first.body?.cancel();
  const renewed = await renewAccessToken(env, credential, token.value.accessToken);
  if (!renewed.ok) return refusedRenewal(credential, renewed);
  const second = await send(renewed.value.accessToken, renewed.value.tokenType);
  if (second.status !== 401) return { ok: true, value: second };
  // Refused again with the token just renewed: the renewal did not help, which spends the credential's
  // renewal budget for the window; a typed error, not the vendor's 401 (row 23).
  await second.body?.cancel();
  await (await coordinator(env, credential)).renewalFutile(credential.vendor, renewed.value.accessToken);
  return refusedRenewal(credential, freshTokenRefused(credential.vendor));
}

/** Every refused renewal is logged, with the credential's kind and vendor only (row 23). */
function refusedRenewal<T extends Failure>(credential: Credential, failure: T): T {
  if (failure.code === 'ERR_FRESH_TOKEN_REFUSED') log({ at: 'renewal', vendor: credential.vendor, credential: credential.kind, outcome: failure.code, retryAfterMs: failure.retryAfter });
  return failure;
}

/** Forgets a credential's token in this isolate (unlink). */
export async function forget(credential: Credential): Promise<void> {
  memory.delete(await kvKeyOf(credential));
}

export { coordinator };
