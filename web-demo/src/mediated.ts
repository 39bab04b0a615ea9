/**
 * Token-mediating account linking in the browser (draft-ietf-oauth-browser-based-apps §6.2): this page
 * makes the PKCE verifier and state, keeps the transaction in IndexedDB across the redirect, checks the
 * callback, and exchanges the code at the Worker's `/token/<vendor>`, which adds the client secret, keeps
 * the refresh token and answers only an access token. The page never sees a secret or a refresh token.
 *
 * Vendor-generic: everything vendor-specific comes from `GET /link/<vendor>/config`.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import { idbStore, webLock } from '../../src/browser/index.ts';
import { completeAuthorization, startAuthorization } from '../../src/authorization.ts';
import { TokenGateError } from '../../src/errors.ts';
import type { Profile } from '../../src/profile.ts';
import { oauth2 } from '../../src/profiles/oauth2.ts';
import { createTokenSource, type TokenSource } from '../../src/token-source.ts';
import { CSRF, failure, unlinkSession, workerFetch, workerUrl, type Unlinked } from './worker-client.ts';

/** What `GET /link/<vendor>/config` answers. */
export interface LinkConfig {
  vendor: string;
  clientId: string;
  scope: string | null;
  redirectUri: string;
  tokenUrl: string;
  /** null: the vendor has no consent page (Instacart's fulfillment sandbox); the Worker authorizes. */
  authorizeUrl: string | null;
  /** The authorization server's issuer, when it sends `iss` (RFC 9207). */
  issuer?: string | null;
  requireIss?: boolean;
}

/** A pending link, kept in IndexedDB under its state until the callback consumes it. */
export interface PendingTransaction {
  vendor: string;
  state: string;
  codeVerifier: string;
  redirectUri: string;
  createdAt: number;
  /** A same-origin page to go back to afterwards (the embed's storefront page). */
  returnTo?: string;
}

/** What the page may show about a mediated token: never the token itself. */
export interface MediatedStatus {
  vendor: string;
  linked: boolean;
  expiresAt?: number;
  scope?: string[];
}

/** A linking outcome with a stable code, for errors the core does not define. */
export const NO_TRANSACTION = 'ERR_NO_TRANSACTION';

/** Transactions older than this are dropped (the Worker's BFF cookie lives as long). */
const TRANSACTION_MAX_AGE = 10 * 60 * 1000;

let transactions: UseStore | undefined;
const txStore = (): UseStore => (transactions ??= createStore('tokengate-demo-links', 'transactions'));
const tokenStore = idbStore();
const configs = new Map<string, Promise<LinkConfig>>();

/** The IndexedDB key of a vendor's mediated token set. */
export const tokenKey = (vendor: string): string => `mediated:${vendor}`;

/** `GET /link/<vendor>/config`, once per page. */
export function linkConfig(vendor: string): Promise<LinkConfig> {
  let pending = configs.get(vendor);
  if (pending === undefined) {
    pending = (async () => {
      const response = await workerFetch(`/link/${encodeURIComponent(vendor)}/config`, { headers: { accept: 'application/json' } });
      if (!response.ok) throw await failure(response, 'The link configuration');
      return (await response.json()) as LinkConfig;
    })();
    pending.catch(() => configs.delete(vendor));
    configs.set(vendor, pending);
  }
  return pending;
}

/**
 * The browser's profile: a public client (no secret) whose token endpoint is the Worker's. Its own grant
 * is `refresh_token` with no refresh token: the Worker renews from the HttpOnly session cookie.
 */
export function profileOf(config: LinkConfig): Profile {
  return oauth2({
    name: config.vendor,
    clientId: config.clientId,
    tokenUrl: config.tokenUrl,
    // No consent page: the Worker's authorize call stands in, so startAuthorization can build the request.
    authorizeUrl: config.authorizeUrl ?? new URL(workerUrl(`/link/${encodeURIComponent(config.vendor)}/authorize`), location.href).href,
    ...(config.scope ? { scope: config.scope } : {}),
    ...(config.issuer ? { issuer: config.issuer, requireIss: config.requireIss === true } : {}),
    grant: { grant_type: 'refresh_token' },
    // The Worker's token endpoint may be a sibling origin: its session cookie must ride along.
    fetch: (input, init) => fetch(input, { ...init, credentials: 'include' }),
  });
}

/** The token source of a vendor's mediated link: IndexedDB store, cross-tab lock, one refresh at a time. */
export async function mediatedSource(vendor: string): Promise<TokenSource> {
  return createTokenSource(profileOf(await linkConfig(vendor)), { store: tokenStore, lock: webLock, key: tokenKey(vendor) });
}

function sameOriginPath(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value, location.origin);
    return url.origin === location.origin ? `${url.pathname}${url.search}` : undefined;
  } catch {
    return undefined;
  }
}

export type StartResult = { kind: 'redirect'; url: string } | { kind: 'linked'; status: MediatedStatus; returnTo?: string };

/**
 * Starts a mediated link. With a consent page: keeps the transaction and answers where to send the
 * browser (the caller navigates). Without one (Instacart): asks the Worker to authorize for this
 * challenge and completes at once.
 */
export async function startMediatedLink(vendor: string, options: { returnTo?: string } = {}): Promise<StartResult> {
  const config = await linkConfig(vendor);
  const profile = profileOf(config);
  const tx = await startAuthorization(profile, { redirectUri: config.redirectUri });
  const returnTo = sameOriginPath(options.returnTo);
  const pending: PendingTransaction = { vendor, state: tx.state, codeVerifier: tx.codeVerifier, redirectUri: tx.redirectUri, createdAt: Date.now(), ...(returnTo ? { returnTo } : {}) };
  await set(tx.state, pending, txStore());
  if (config.authorizeUrl !== null) return { kind: 'redirect', url: tx.url };

  const challenge = new URL(tx.url).searchParams.get('code_challenge');
  const response = await workerFetch(`/link/${encodeURIComponent(vendor)}/authorize`, {
    method: 'POST',
    headers: { ...CSRF, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ state: tx.state, code_challenge: challenge, code_challenge_method: 'S256' }),
  });
  if (!response.ok) {
    await del(tx.state, txStore());
    throw await failure(response, 'The authorize call');
  }
  const { callbackUrl } = (await response.json()) as { callbackUrl: string };
  const done = await completeMediatedLink(callbackUrl);
  return { kind: 'linked', status: done.status, ...(done.returnTo ? { returnTo: done.returnTo } : {}) };
}

/** Drops transactions that waited too long. */
async function sweep(): Promise<PendingTransaction[]> {
  const store = txStore();
  const all = (await entries<string, PendingTransaction>(store)).map(([, tx]) => tx);
  const live: PendingTransaction[] = [];
  for (const tx of all) {
    if (Date.now() - tx.createdAt > TRANSACTION_MAX_AGE) await del(tx.state, store);
    else live.push(tx);
  }
  return live;
}

/**
 * Completes a mediated link from the callback URL: finds the transaction by state, consumes it (one
 * time, whatever the outcome), checks the callback (state, iss, error) and exchanges the code at the
 * Worker. The access token goes to IndexedDB; only its expiry comes back.
 */
export async function completeMediatedLink(callbackUrl: string): Promise<{ status: MediatedStatus; returnTo?: string; vendor: string }> {
  const params = new URL(callbackUrl).searchParams;
  const state = params.get('state');
  const live = await sweep();
  if (state === null || state === '') {
    throw new TokenGateError('ERR_STATE_MISSING', 'The callback has no state parameter');
  }
  const tx = await get<PendingTransaction>(state, txStore());
  if (tx === undefined) {
    // Another sign-in is waiting: this answer is not its answer. None is: nothing to complete.
    throw live.length > 0
      ? new TokenGateError('ERR_STATE_MISMATCH', 'The callback state matches no sign-in of this browser')
      : new TokenGateError(NO_TRANSACTION, 'This browser has no sign-in in progress for this callback');
  }
  await del(state, txStore());
  const config = await linkConfig(tx.vendor);
  const profile = profileOf(config);
  const tokens = await completeAuthorization(profile, tx, callbackUrl);
  await tokenStore.set(tokenKey(tx.vendor), tokens);
  const status: MediatedStatus = { vendor: tx.vendor, linked: true, ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }), ...(tokens.scope ? { scope: tokens.scope } : {}) };
  return { status, vendor: tx.vendor, ...(tx.returnTo ? { returnTo: tx.returnTo } : {}) };
}

/** The vendor a callback URL's transaction belongs to, if this browser still has it. */
export async function vendorOfCallback(callbackUrl: string): Promise<string | undefined> {
  const state = new URL(callbackUrl).searchParams.get('state');
  if (!state) return undefined;
  return (await get<PendingTransaction>(state, txStore()))?.vendor;
}

/** What this page holds for a vendor: whether a mediated access token is stored, and until when. */
export async function mediatedStatus(vendor: string): Promise<MediatedStatus> {
  const tokens = await tokenStore.get(tokenKey(vendor));
  if (tokens === undefined) return { vendor, linked: false };
  return { vendor, linked: true, ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }), ...(tokens.scope ? { scope: tokens.scope } : {}) };
}

/**
 * A fresh access token from the Worker (`grant_type=refresh_token`, renewed from the session cookie):
 * drops the stored one first so the source asks. Answers the new expiry only.
 */
export async function renewMediated(vendor: string): Promise<MediatedStatus> {
  const source = await mediatedSource(vendor);
  const current = await source.getToken();
  source.invalidate(current.accessToken);
  const fresh = await source.getToken();
  return { vendor, linked: true, ...(fresh.expiresAt === undefined ? {} : { expiresAt: fresh.expiresAt }), ...(fresh.scope ? { scope: fresh.scope } : {}) };
}

/** Forgets the page's token and asks the Worker to unlink the session (it drops the refresh token). */
export async function unlink(vendor: string): Promise<Unlinked> {
  await tokenStore.delete(tokenKey(vendor));
  return unlinkSession(vendor);
}
