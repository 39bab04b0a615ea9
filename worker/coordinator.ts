import { DurableObject } from 'cloudflare:workers';
import {
  authorizationCodeGrant,
  checkCallback,
  createTokenSource,
  ErrorCode,
  isTokenGateError,
  revokeToken,
  TokenGateError,
  withDpop,
  type DPoP,
  type Profile,
  type TokenSet,
  type TokenSource,
} from 'tokengate';
import { loadConfig, type Config, type VendorRuntime } from './config.js';
import { bindStoredTokens, credentialHash, logRefusedCredential } from './credential-binding.js';
import { credentialLedger, type CredentialLedger, type CredentialRecord } from './credential-ledger.js';
import { open, seal } from './crypto.js';
import { dpopKeyName, loadDpopKey } from './dpop-key.js';
import type { Env } from './env.js';
import { kvTokenStore } from './kv-store.js';
import { expirePendingLinks, scheduleExpiry } from './link-expiry.js';
import { storageStore } from './storage-store.js';
import { upstreamFetch } from './upstream.js';

/** What leaves the Durable Object: never a refresh token. */
export interface IssuedToken {
  accessToken: string;
  tokenType: string;
  expiresAt?: number;
  scope?: string[];
}

/**
 * RPC results are plain data: an Error crossing the RPC boundary keeps only its message, and callers
 * need the stable code, the status and Retry-After.
 */
export type Failure = { ok: false; code: string; message: string; status?: number; retryAfter?: number };
export type Outcome<T> = { ok: true; value: T; vendorWaitUntil?: number } | Failure;

export interface CredentialStatus extends CredentialRecord {
  vendor: string;
  /** A token set is held (for a linked session: the account is linked, even if its access token has expired). */
  held: boolean;
  /** The held access token is still valid. */
  cached: boolean;
  expiresAt?: number;
}

/**
 * How a session's account was linked: `bff` (the Worker ran the flow; tokens never leave it) or
 * `mediated` (the browser ran PKCE; `/token` may hand it access tokens).
 */
export type LinkMode = 'bff' | 'mediated';

/** A BFF account-linking transaction, kept sealed in the session's object until its callback. */
export interface PendingLink {
  state: string;
  codeVerifier: string;
  redirectUri: string;
  createdAt: number;
  /** When it expires (epoch ms; `LINK_MAX_AGE`): then the callback finds nothing, and an alarm deletes it. */
  expiresAt?: number;
  /** The page of the Worker's origin to go back to afterwards (checked by the link route). */
  returnTo?: string;
}

/**
 * What an unlink did at the vendor: `revoked` (its revocation endpoint took the tokens), `failed` (it
 * did not answer 200: the code says why; the account is unlinked here all the same), `not_offered`
 * (the vendor has no revocation endpoint) or `nothing_to_revoke` (no account was linked).
 */
export type UnlinkOutcome = { revocation: 'revoked' | 'not_offered' | 'nothing_to_revoke' } | { revocation: 'failed'; code: string };

/**
 * What happened at the vendor to the grant a new link replaced (a re-link of a linked session): its
 * refresh token (then its access token) was `revoked` (RFC 7009), the revocation `failed`, or the
 * vendor offers none (`not_offered`). Absent when nothing was replaced.
 */
export type ReplacedGrant = 'revoked' | 'failed' | 'not_offered';

/** A BFF link's outcome, with the page it started from once the transaction was found. */
export type LinkOutcome = Outcome<IssuedToken> & { returnTo?: string; replaced?: ReplacedGrant };

/**
 * The window of a credential's renewal budget after upstream 401s (SECURITY row 23): within it, one
 * renewal that did not help (the renewed token was refused too: a vendor that refuses every token, or
 * a route that refuses a valid one) stops renewals until the window has passed, and at most
 * {@link RENEWALS_PER_WINDOW} renewals happen in all. Asking again at once would only burn the
 * vendor's token endpoint.
 */
export const RENEWAL_WINDOW = 10_000;
/** Renewals of one credential within {@link RENEWAL_WINDOW} at most, even when each helped (revocations). */
export const RENEWALS_PER_WINDOW = 3;

/**
 * The vendor's API refused a token its token endpoint had just issued, and the credential's renewal
 * budget is spent: `retryAfter` (ms) is when the next renewal may be asked for.
 */
export function freshTokenRefused(vendor: string, retryAfter: number = RENEWAL_WINDOW): Failure {
  return {
    ok: false,
    code: 'ERR_FRESH_TOKEN_REFUSED',
    message: `The ${vendor} API refused a token its token endpoint had just issued; not asking for another for ${Math.ceil(retryAfter / 1000)} s`,
    status: 502,
    retryAfter,
  };
}

/** How long a started link waits for its callback when it does not say (`PendingLink.expiresAt`). */
const LINK_TTL = 10 * 60_000;

/** When `pending` expires. */
const expiryOf = (pending: PendingLink): number => pending.expiresAt ?? pending.createdAt + LINK_TTL;

/**
 * One object per vendor credential (`app:<vendor>`) and per linked session (`session:<keyed hash of the
 * id>`, worker/object-names.ts): the single
 * place that requests and refreshes tokens. Its token sources give global single-flight, the vendor's
 * minimum interval, backoff and rotation; the refresh tokens stay in its storage, and each new access
 * token is published to KV for every isolate.
 */
export class TokenCoordinator extends DurableObject<Env> {
  #config: Config | undefined;
  readonly #sources = new Map<string, TokenSource>();
  /** Each credential's counters, last error and last success, in storage (worker/credential-ledger.ts). */
  readonly #ledgers = new Map<string, CredentialLedger>();
  readonly #published = new Map<string, string>();
  /**
   * Credentials whose refresh token was refused (invalid_grant is terminal, row 6). An app credential's
   * refusal is also kept in storage with a hash of its secrets, so an evicted object does not try it
   * again either: only a new secret, an operator reset (`POST /reset/:vendor`) or, for a session, a
   * new link brings it back.
   */
  readonly #dead = new Map<string, Failure>();
  /** App credentials whose stored refusal was already read since this object started. */
  readonly #deadLoaded = new Set<string>();
  /** Each DPoP vendor's key of this credential, loaded or made once (worker/dpop-key.ts). */
  readonly #dpop = new Map<string, Promise<DPoP>>();
  /** Server nonces by origin (RFC 9449 §8, §9), shared by this object's token requests and proofs. */
  readonly #nonces = new Map<string, string>();
  /** Vendors whose stored tokens were checked against the configured credential since this object started. */
  readonly #bound = new Map<string, Promise<void>>();

  #cfg(): Config {
    this.#config ??= loadConfig(this.env, upstreamFetch);
    return this.#config;
  }

  #vendor(name: string): VendorRuntime {
    const vendor = this.#cfg().vendors.get(name);
    if (vendor === undefined) throw new TokenGateError(ErrorCode.INVALID_CONFIG, `No vendor named ${name} is configured`);
    return vendor;
  }

  #ledgerOf(vendor: string): CredentialLedger {
    let ledger = this.#ledgers.get(vendor);
    if (ledger === undefined) {
      ledger = credentialLedger(this.ctx.storage.kv, vendor);
      this.#ledgers.set(vendor, ledger);
    }
    return ledger;
  }

  /** This credential's DPoP key for a DPoP vendor; the first call loads it or makes and keeps it. */
  #dpopOf(vendor: string): Promise<DPoP> {
    let dpop = this.#dpop.get(vendor);
    if (dpop === undefined) {
      dpop = loadDpopKey(this.ctx.storage, this.#cfg().keys, vendor, this.#nonces);
      dpop.catch(() => this.#dpop.delete(vendor));
      this.#dpop.set(vendor, dpop);
    }
    return dpop;
  }

  /** The vendor's profile for this credential: with a DPoP vendor, every token request sends a proof of its key. */
  async #profile(vendor: string): Promise<Profile> {
    const runtime = this.#vendor(vendor);
    return runtime.dpop ? withDpop(runtime.profile, await this.#dpopOf(vendor)) : runtime.profile;
  }

  /** Forgets a credential's DPoP key: its tokens are gone, and the next ones are bound to a new key. */
  async #dropDpop(vendor: string): Promise<void> {
    this.#dpop.delete(vendor);
    await this.ctx.storage.delete(dpopKeyName(vendor));
  }

  /**
   * A DPoP proof (RFC 9449 §4) for one proxied call with `accessToken`, signed with this credential's
   * key, which never leaves this object. Only for a DPoP vendor and a URL under its API base, so the
   * object signs for nothing else. Without `nonce`, the server's latest one this object knows.
   */
  async dpopProof(vendor: string, method: string, url: string, accessToken: string, nonce?: string): Promise<Outcome<string>> {
    const runtime = this.#vendor(vendor);
    const target = new URL(url);
    if (!runtime.dpop || target.origin !== runtime.upstream.origin || !target.pathname.startsWith(runtime.upstream.pathname)) {
      return { ok: false, code: ErrorCode.INVALID_CONFIG, message: `No DPoP proof for this URL: ${vendor} is not a DPoP vendor, or the URL is not under its API`, status: 500 };
    }
    if (nonce !== undefined) this.#nonces.set(target.origin, nonce);
    const dpop = await this.#dpopOf(vendor);
    return { ok: true, value: await dpop.proof(method, url, { accessToken }) };
  }

  async #source(vendor: string, linked: boolean): Promise<TokenSource> {
    let source = this.#sources.get(vendor);
    if (source === undefined) {
      const profile = await this.#profile(vendor);
      // Another call made it while the key loaded: one source per credential, always.
      const made = this.#sources.get(vendor);
      if (made !== undefined) return made;
      const ledger = this.#ledgerOf(vendor);
      // When the vendor last answered a token request survives a restart of this object, so a new
      // instance keeps the vendor's minimum interval (instellix: 5 s) instead of polling at once.
      const answered = `answered:${vendor}`;
      const lastAnswerAt = this.ctx.storage.kv.get<number>(answered);
      source = createTokenSource(profile, {
        store: storageStore(this.ctx.storage, this.#cfg().keys),
        key: `tokens:${vendor}`,
        linked,
        ...(lastAnswerAt === undefined ? {} : { lastAnswerAt }),
        onTokenAnswer: (at) => this.ctx.storage.kv.put(answered, at),
        onTokenRequest: () => ledger.tokenRequest(),
      });
      this.#sources.set(vendor, source);
    }
    return source;
  }

  /** A valid access token of the vendor's app credential. */
  async appToken(vendor: string): Promise<Outcome<IssuedToken>> {
    return this.#issue(vendor, false, `tok:app:${vendor}`);
  }

  /** A valid access token of this session's linked account at the vendor. */
  async sessionToken(vendor: string, kvKey: string): Promise<Outcome<IssuedToken>> {
    return this.#issue(vendor, true, kvKey);
  }

  /**
   * The token-mediating refresh (`POST /token/:vendor`): an access token for the browser, only when
   * this session was linked the token-mediating way. A BFF link promised that no token reaches page
   * script, so it is refused here before any vendor call (SECURITY row 18).
   */
  async mediatedToken(vendor: string, kvKey: string): Promise<Outcome<IssuedToken>> {
    const mode = await this.ctx.storage.get<LinkMode>(`mode:${vendor}`);
    if (mode !== 'mediated') {
      return mode === undefined && (await storageStore(this.ctx.storage, this.#cfg().keys).get(`tokens:${vendor}`)) === undefined
        ? { ok: false, code: 'ERR_NOT_LINKED', message: `No ${vendor} account is linked to this session`, status: 401 }
        : { ok: false, code: 'ERR_LINKED_BFF', message: `This session's ${vendor} account was linked for the Worker only; its tokens are not handed to the browser`, status: 403 };
    }
    return this.#issue(vendor, true, kvKey);
  }

  /**
   * After an upstream 401 with `accessToken`: drop it if it is still current, and answer a new one.
   * The credential's renewal budget holds whatever path, method or token history the 401 came with
   * (SECURITY row 23): a route that refuses a valid token (a scope or per-resource refusal) alternated
   * with one that takes it must not mint a token per pair. Within {@link RENEWAL_WINDOW}, after a
   * renewal that did not help ({@link renewalFutile}) or after {@link RENEWALS_PER_WINDOW} renewals, the
   * answer is `ERR_FRESH_TOKEN_REFUSED` with the time left and nothing is requested, unless the token the
   * 401 names is itself older than the window. So a token revoked at the vendor is replaced at once
   * (its renewal helps), and one that is no longer current (another call renewed it) is answered with
   * the current one, at no cost. The budget is in this object's storage, so it holds across isolates
   * and across evictions.
   */
  async renew(vendor: string, accessToken: string, linked: boolean, kvKey: string): Promise<Outcome<IssuedToken>> {
    const dead = await this.#deadOf(vendor, linked);
    if (dead !== undefined) return dead;
    const source = await this.#source(vendor, linked);
    // Load the current set first: after an eviction the source is new and would not know the token.
    const current = await source.getToken().catch(() => undefined);
    if (current?.accessToken === accessToken) {
      const now = Date.now();
      const key = `renewed:${vendor}`;
      const recent = (this.ctx.storage.kv.get<number[]>(key) ?? []).filter((at) => now - at < RENEWAL_WINDOW);
      const futile = this.ctx.storage.kv.get<number>(`futile:${vendor}`);
      // The current token is at most as old as the vendor's last token answer (a later failed answer only makes it look younger).
      const issuedAt = this.ctx.storage.kv.get<number>(`answered:${vendor}`);
      const young = issuedAt === undefined || now - issuedAt < RENEWAL_WINDOW;
      const blockedUntil = Math.max(futile === undefined ? 0 : futile + RENEWAL_WINDOW, recent.length >= RENEWALS_PER_WINDOW ? recent[0]! + RENEWAL_WINDOW : 0);
      if (young && blockedUntil > now) return freshTokenRefused(vendor, blockedUntil - now);
      this.ctx.storage.kv.put(key, [...recent, now]);
    }
    source.invalidate(accessToken);
    return this.#issue(vendor, linked, kvKey);
  }

  /**
   * Once per object and vendor: tokens minted from secrets other than the configured ones are dropped
   * (an app credential) or expired (a linked account), before anything is served (worker/credential-binding.ts).
   */
  #bind(vendor: string, linked: boolean): Promise<void> {
    let bound = this.#bound.get(vendor);
    if (bound === undefined) {
      bound = bindStoredTokens(this.ctx.storage, this.#cfg().keys, this.#vendor(vendor), linked).then((changed) => {
        if (changed) this.#sources.delete(vendor);
      });
      bound.catch(() => this.#bound.delete(vendor));
      this.#bound.set(vendor, bound);
    }
    return bound;
  }

  /**
   * The token {@link renew} just answered was refused by the upstream too: the renewal did not help,
   * so no other is made within {@link RENEWAL_WINDOW} for a token younger than it.
   */
  async renewalFutile(vendor: string, accessToken: string): Promise<void> {
    const tokens = await storageStore(this.ctx.storage, this.#cfg().keys).get(`tokens:${vendor}`);
    if (tokens?.accessToken === accessToken) this.ctx.storage.kv.put(`futile:${vendor}`, Date.now());
  }

  /**
   * The vendor answered a proxied call of this credential 429 with `Retry-After` until `until` (epoch
   * ms): kept here and handed with every token this object answers until then, so every isolate
   * honours it (worker/vendor-wait.ts).
   */
  async noteVendorWait(vendor: string, until: number): Promise<void> {
    const key = `wait:${vendor}`;
    if (until > (this.ctx.storage.kv.get<number>(key) ?? 0)) this.ctx.storage.kv.put(key, until);
  }

  /** The refusal this credential is under, reading an app credential's from storage once. */
  async #deadOf(vendor: string, linked: boolean): Promise<Failure | undefined> {
    await this.#bind(vendor, linked);
    if (!linked && !this.#deadLoaded.has(vendor)) {
      this.#deadLoaded.add(vendor);
      const stored = await this.ctx.storage.get<{ failure: Failure; credential: string }>(`dead:${vendor}`);
      if (stored !== undefined) {
        if (stored.credential === (await credentialHash(this.#vendor(vendor)))) this.#dead.set(vendor, stored.failure);
        else await this.ctx.storage.delete(`dead:${vendor}`);
      }
    }
    return this.#dead.get(vendor);
  }

  async #issue(vendor: string, linked: boolean, kvKey: string): Promise<Outcome<IssuedToken>> {
    const dead = await this.#deadOf(vendor, linked);
    if (dead !== undefined) return dead;
    // Never linked, or unlinked: not a refused refresh token, so the caller hears "link first".
    if (linked && !this.#sources.has(vendor) && (await storageStore(this.ctx.storage, this.#cfg().keys).get(`tokens:${vendor}`)) === undefined) {
      return { ok: false, code: 'ERR_NOT_LINKED', message: `No ${vendor} account is linked to this session`, status: 401 };
    }
    try {
      const tokens = await (await this.#source(vendor, linked)).getToken();
      // Isolates ask a session's object directly (worker/token-cache.ts): only app tokens go to KV.
      if (!linked) await this.#publish(vendor, kvKey, tokens);
      this.#ledgerOf(vendor).success();
      const wait = this.ctx.storage.kv.get<number>(`wait:${vendor}`);
      return { ok: true, value: issued(tokens), ...(wait !== undefined && wait > Date.now() ? { vendorWaitUntil: wait } : {}) };
    } catch (error) {
      const failure = this.#failure(vendor, error);
      if (failure.code === ErrorCode.LINK_REQUIRED) {
        this.#dead.set(vendor, failure);
        logRefusedCredential(this.#vendor(vendor), failure.code, !linked);
        if (!linked) await this.ctx.storage.put(`dead:${vendor}`, { failure, credential: await credentialHash(this.#vendor(vendor)) });
        this.#published.delete(kvKey);
        // The copy in KV is dead too: isolates must not keep sending it upstream.
        await this.env.TOKENS.delete(kvKey).catch(() => undefined);
      }
      return failure;
    }
  }

  /** Copies a new access token (never the refresh token) to KV for the other isolates. */
  async #publish(vendor: string, kvKey: string, tokens: TokenSet): Promise<void> {
    if (this.#published.get(kvKey) === tokens.accessToken) return;
    try {
      await kvTokenStore(this.env.TOKENS, this.#cfg().keys, { context: await credentialHash(this.#vendor(vendor)) }).set(kvKey, issued(tokens));
      this.#published.set(kvKey, tokens.accessToken);
    } catch {
      // KV takes one write per second per key; a refused write only means isolates ask here once more.
    }
  }

  #failure(vendor: string, error: unknown): Failure {
    const known = isTokenGateError(error);
    const failure = {
      ok: false as const,
      code: known ? error.code : 'ERR_INTERNAL',
      // tokengate's messages carry no credentials; anything else is not repeated.
      message: known ? error.message : 'Internal error while getting a token',
      ...(known && error.status !== undefined ? { status: error.status } : {}),
      ...(known && error.retryAfter !== undefined ? { retryAfter: error.retryAfter } : {}),
    };
    this.#ledgerOf(vendor).failure(failure.code, failure.message);
    if (failure.code !== ErrorCode.LINK_REQUIRED) logRefusedCredential(this.#vendor(vendor), failure.code, true);
    return failure;
  }

  /** Starts a BFF link: keeps the transaction sealed here until the callback consumes it. */
  async beginLink(vendor: string, pending: PendingLink): Promise<void> {
    const key = `link:${vendor}`;
    await this.ctx.storage.put(key, await seal(this.#cfg().keys, key, JSON.stringify(pending)));
    // An abandoned link must not stay forever: the alarm deletes it at its expiry (worker/link-expiry.ts).
    await scheduleExpiry(this.ctx.storage, expiryOf(pending));
  }

  /**
   * Everything this object holds, removed from it: for an object under a session's old name
   * (`session:<id>`), whose contents move to the keyed name (worker/object-names.ts). Values stay
   * sealed as they are; the in-memory state is dropped with them.
   */
  async handOver(): Promise<{ key: string; json: string }[]> {
    const entries = [...(await this.ctx.storage.list())];
    if (entries.length === 0) return [];
    this.#sources.clear();
    this.#dead.clear();
    this.#dpop.clear();
    await this.ctx.storage.deleteAll();
    // Sealed strings, numbers and plain objects: JSON carries each as it was.
    return entries.map(([key, value]) => ({ key, json: JSON.stringify(value) }));
  }

  /** Takes what {@link handOver} gave, without replacing anything this object already holds. */
  async adopt(entries: { key: string; json: string }[]): Promise<void> {
    const held = await this.ctx.storage.get(entries.map(({ key }) => key));
    for (const { key, json } of entries) if (!held.has(key)) await this.ctx.storage.put(key, JSON.parse(json) as unknown);
    // A pending link came along: the alarm deletes it at its expiry, here as there.
    if (entries.some(({ key }) => key.startsWith('link:'))) await scheduleExpiry(this.ctx.storage, Date.now());
  }

  /** At a pending link's expiry: deletes the expired ones, and the whole storage when nothing else is left. */
  override async alarm(): Promise<void> {
    await expirePendingLinks(this.ctx.storage, async (key, sealed) => {
      const text = await open(this.#cfg().keys, key, sealed);
      return text === undefined ? undefined : expiryOf(JSON.parse(text) as PendingLink);
    });
  }

  /**
   * Completes a BFF link: checks the callback (redirect URI, state, iss, error), consumes the
   * transaction (a replayed callback finds none) and exchanges the code with the client secret. A
   * callback with a missing or wrong state leaves the transaction for the real one.
   */
  async completeLink(vendor: string, callbackUrl: string): Promise<LinkOutcome> {
    const key = `link:${vendor}`;
    const noTransaction: Failure = {
      ok: false,
      code: 'ERR_NO_TRANSACTION',
      message: `No pending ${vendor} link in this browser: it expired, was already completed, or was started for another vendor`,
      status: 400,
    };
    const sealed = await this.ctx.storage.get<string>(key);
    const text = typeof sealed === 'string' ? await open(this.#cfg().keys, key, sealed) : undefined;
    const pending = text === undefined ? undefined : (JSON.parse(text) as PendingLink);
    if (pending === undefined || Date.now() > expiryOf(pending)) {
      if (sealed !== undefined) await this.ctx.storage.delete(key);
      return noTransaction;
    }
    const back = pending.returnTo === undefined ? {} : { returnTo: pending.returnTo };
    try {
      const profile = await this.#profile(vendor);
      let code: string;
      try {
        code = checkCallback(profile, pending, callbackUrl);
      } catch (error) {
        // A callback without this transaction's state is not its answer: anyone can send one, so it
        // must not consume the pending link (row 24). Any other refusal is the answer, and ends it.
        if (!(isTokenGateError(error) && error.code.startsWith('ERR_STATE'))) await this.ctx.storage.delete(key);
        throw error;
      }
      // One use: of two callbacks with the right state, only the one that removes the transaction goes on (row 5).
      if (!(await this.ctx.storage.delete(key))) return { ...noTransaction, ...back };
      // A link's mode is fixed until unlink (row 18): a mediated session is not turned into a BFF one.
      const conflict = await this.#modeConflict(vendor, 'bff');
      if (conflict !== undefined) return { ...conflict, ...back };
      this.#ledgerOf(vendor).tokenRequest();
      const tokens = await authorizationCodeGrant(profile, { code, codeVerifier: pending.codeVerifier, redirectUri: pending.redirectUri });
      return { ...(await this.#adoptLinked(vendor, tokens, 'bff')), ...back };
    } catch (error) {
      return { ...this.#failure(vendor, error), ...back };
    }
  }

  /**
   * The token-mediating exchange: the browser ran PKCE and checked state; this adds the client
   * secret, keeps the refresh token and answers the access token only.
   */
  async exchangeCode(vendor: string, input: { code: string; codeVerifier: string; redirectUri: string }): Promise<Outcome<IssuedToken> & { replaced?: ReplacedGrant }> {
    // Before any vendor call: a session linked the BFF way never yields a token to the page (row 18).
    const conflict = await this.#modeConflict(vendor, 'mediated');
    if (conflict !== undefined) return conflict;
    try {
      const profile = await this.#profile(vendor);
      this.#ledgerOf(vendor).tokenRequest();
      const tokens = await authorizationCodeGrant(profile, input);
      return await this.#adoptLinked(vendor, tokens, 'mediated');
    } catch (error) {
      return this.#failure(vendor, error);
    }
  }

  /**
   * The refusal when this session already holds a link of the other mode: a link's mode is fixed
   * until unlink (row 18), so neither a code exchange turns a BFF session into one that hands out
   * tokens, nor a BFF link takes over a mediated one. Undefined when nothing is linked or the modes agree.
   */
  async #modeConflict(vendor: string, wanted: LinkMode): Promise<Failure | undefined> {
    const held = await storageStore(this.ctx.storage, this.#cfg().keys).get(`tokens:${vendor}`);
    if (held === undefined) return undefined;
    // A set stored without a mode reads as BFF, the mode that hands nothing out.
    const mode = (await this.ctx.storage.get<LinkMode>(`mode:${vendor}`)) ?? 'bff';
    if (mode === wanted) return undefined;
    return mode === 'bff'
      ? { ok: false, code: 'ERR_LINKED_BFF', message: `This session's ${vendor} account was linked for the Worker only; its tokens are not handed to the browser (unlink it first to link it another way)`, status: 403 }
      : { ok: false, code: 'ERR_LINKED_MEDIATED', message: `This session's ${vendor} account was linked the token-mediating way; unlink it first to link it another way`, status: 409 };
  }

  /**
   * Stores a new link's tokens. A grant it replaces (a re-link) is revoked at the vendor first
   * (RFC 7009), so no refresh token the Worker let go of stays usable; the outcome says what the vendor did.
   */
  async #adoptLinked(vendor: string, tokens: TokenSet, mode: LinkMode): Promise<{ ok: true; value: IssuedToken; replaced?: ReplacedGrant }> {
    await this.#bind(vendor, true);
    const store = storageStore(this.ctx.storage, this.#cfg().keys);
    const old = await store.get(`tokens:${vendor}`);
    const replaced = old === undefined ? undefined : (await this.#revokeGrant(vendor, old)).revocation;
    this.#sources.delete(vendor);
    this.#dead.delete(vendor);
    this.ctx.storage.kv.delete(`renewed:${vendor}`);
    this.ctx.storage.kv.delete(`futile:${vendor}`);
    // The mode first: a set stored without it reads as BFF, the mode that hands nothing out.
    await this.ctx.storage.put(`mode:${vendor}`, mode);
    await store.set(`tokens:${vendor}`, tokens);
    this.#ledgerOf(vendor).success();
    return { ok: true, value: issued(tokens), ...(replaced === undefined || replaced === 'nothing_to_revoke' ? {} : { replaced }) };
  }

  /**
   * Asks the vendor to revoke `tokens` (RFC 7009) when it has a revocation endpoint: the refresh token
   * first (which usually takes its access tokens with it, §2.1), then the access token.
   */
  async #revokeGrant(vendor: string, tokens: TokenSet): Promise<UnlinkOutcome> {
    const profile = await this.#profile(vendor);
    if (profile.revocationUrl === undefined) return { revocation: 'not_offered' };
    let refreshRevoked = false;
    try {
      if (tokens.refreshToken !== undefined) await revokeToken(profile, tokens.refreshToken, { hint: 'refresh_token' });
      refreshRevoked = tokens.refreshToken !== undefined;
      await revokeToken(profile, tokens.accessToken, { hint: 'access_token' });
      return { revocation: 'revoked' };
    } catch (error) {
      // Once the refresh token is revoked, the access token's revocation is best effort: a server may
      // have revoked it along (RFC 7009 §2.1) and refuse it as unknown, although §2.2 says 200.
      return refreshRevoked ? { revocation: 'revoked' } : { revocation: 'failed', code: isTokenGateError(error) ? error.code : 'ERR_INTERNAL' };
    }
  }

  /**
   * The operator's way back for an app credential (`POST /reset/:vendor`): forgets its refusal, its
   * tokens here and in KV, and its counters, so the next call asks the vendor once.
   */
  async reset(vendor: string, kvKey: string): Promise<void> {
    this.#sources.delete(vendor);
    this.#dead.delete(vendor);
    this.#published.delete(kvKey);
    this.#ledgerOf(vendor).clear();
    await this.ctx.storage.delete([`tokens:${vendor}`, `dead:${vendor}`, `renewed:${vendor}`, `futile:${vendor}`]);
    await this.#dropDpop(vendor);
    await this.env.TOKENS.delete(kvKey);
  }

  /**
   * Forgets the linked account here, in storage and in KV, after asking the vendor to revoke its
   * tokens (RFC 7009) when it has a revocation endpoint: the refresh token first (which usually takes
   * its access tokens with it, §2.1), then the access token, best effort once the refresh token is
   * revoked. The account is unlinked here whatever the vendor answers; the outcome says what it did.
   */
  async unlink(vendor: string, kvKey: string): Promise<UnlinkOutcome> {
    const tokens = await storageStore(this.ctx.storage, this.#cfg().keys).get(`tokens:${vendor}`);
    const revocation: UnlinkOutcome = tokens === undefined ? { revocation: 'nothing_to_revoke' } : await this.#revokeGrant(vendor, tokens);
    this.#sources.delete(vendor);
    this.#dead.delete(vendor);
    this.#published.delete(kvKey);
    await this.ctx.storage.delete([`tokens:${vendor}`, `link:${vendor}`, `mode:${vendor}`]);
    await this.#dropDpop(vendor);
    await this.env.TOKENS.delete(kvKey);
    return revocation;
  }

  /** For the demo's live panel: whether a token is held, until when, how many requests, the last error. */
  async status(vendor: string, linked = false): Promise<CredentialStatus> {
    // A refused credential's token is not served any more, whatever its expiry says. First: it also
    // drops tokens minted from secrets other than the configured ones (worker/credential-binding.ts).
    const dead = (await this.#deadOf(vendor, linked)) !== undefined;
    const tokens = await storageStore(this.ctx.storage, this.#cfg().keys).get(`tokens:${vendor}`);
    const valid = !dead && tokens !== undefined && (tokens.expiresAt === undefined || tokens.expiresAt > Date.now());
    return {
      vendor,
      ...this.#ledgerOf(vendor).read(),
      held: tokens !== undefined,
      cached: valid,
      ...(valid && tokens.expiresAt !== undefined ? { expiresAt: tokens.expiresAt } : {}),
    };
  }
}

function issued(tokens: TokenSet): IssuedToken {
  return {
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }),
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
  };
}
