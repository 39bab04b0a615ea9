import type { ClientAuthentication } from './client-auth.js';
import { base64url, utf8 } from './encoding.js';
import { epochSeconds, jwtId, signJwt } from './jws.js';
import type { Profile } from './profile.js';
import { readText } from './transport.js';
import type { FetchLike, Jwk, WebCryptoKeyPair } from './types.js';

/**
 * A DPoP key and what it does: proofs, and a fetch that adds them. Holds the key pair, never its
 * material: the private key made here is not extractable.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449
 */
export interface DPoP {
  readonly keyPair: WebCryptoKeyPair;
  /** The public key as the proofs carry it (`kty`, `crv`, `x`, `y`). */
  readonly jwk: Jwk;
  /**
   * One proof for one request (RFC 9449 §4.2): a fresh `jti`, `htm`, `htu` without query and fragment,
   * `iat`; `ath` when it goes with an access token; `nonce` when given (default: the cached one of
   * the URL's origin).
   */
  proof(method: string, url: string | URL, options?: { accessToken?: string | undefined; nonce?: string | undefined }): Promise<string>;
  /**
   * A fetch that sends a new proof with every attempt (`ath` when the request carries
   * `Authorization: DPoP <token>`), keeps each server's latest `DPoP-Nonce` per origin, and answers a
   * `use_dpop_nonce` challenge (token endpoint 400, resource 401) with exactly one retry.
   */
  fetch(base?: FetchLike): FetchLike;
}

export interface DPoPOptions {
  /** An existing key pair (the one kept with the tokens: `loadDpopKeyPair` of `tokengate/browser`). Default: a new one. */
  keyPair?: WebCryptoKeyPair;
  /** Server nonces by origin; share one map between handles that talk to the same servers. */
  nonces?: Map<string, string>;
  /** Injectable clock (epoch ms) for `iat`. */
  now?: () => number;
}

/** A new ES256 key pair for DPoP; the private key cannot be exported. */
export function generateDpopKeyPair(): Promise<WebCryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** RFC 9449 §4.2 `htu`: the URL without query and fragment, scheme and host normalized by the URL parser. */
export function dpopHtu(url: string | URL): string {
  const { origin, pathname } = new URL(url);
  return origin + pathname;
}

/** RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token's ASCII. */
export async function dpopAth(accessToken: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(accessToken))));
}

/** The fetch each DPoP fetch wraps, so a profile given another key is not wrapped twice. */
const unwrapped = new WeakMap<FetchLike, FetchLike | undefined>();
/** The client authentication each {@link withDpop} profile wraps, for the same reason. */
const unwrappedAuth = new WeakMap<ClientAuthentication, ClientAuthentication>();

/** A request's headers and body with the client authenticated anew. */
type Reauthenticate = () => Promise<{ headers: Headers; body: string }>;
/**
 * How to authenticate the client again for the request whose headers these are: a nonce retry must
 * not replay a JWT assertion, whose `jti` the server accepts once (RFC 7523 §3), so the retry gets a
 * fresh one. Registered by {@link withDpop}'s client authentication, keyed by the very `Headers` the
 * token, revocation, introspection and PAR requests are sent with.
 */
const reauthentication = new WeakMap<Headers, Reauthenticate>();

const DPOP_AUTHORIZATION = /^DPoP (.+)$/i;
const NONCE_CHALLENGE = /\bDPoP\b.*\berror="use_dpop_nonce"/i;

/** A `use_dpop_nonce` answer: a resource's 401 challenge (§9) or a token endpoint's 400 error (§8). */
async function isNonceChallenge(response: Response): Promise<boolean> {
  if (response.status === 401) return NONCE_CHALLENGE.test(response.headers.get('www-authenticate') ?? '');
  if (response.status !== 400) return false;
  // A copy, capped: the caller still reads the answer itself when it is not a challenge.
  const text = await readText(response.clone(), { label: 'DPoP nonce check', maxBytes: 4096 }).catch(() => '');
  return /"error"\s*:\s*"use_dpop_nonce"/.test(text);
}

/**
 * Makes a DPoP handle from a key pair (default: a new non-extractable one).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4
 */
export async function createDpop(options: DPoPOptions = {}): Promise<DPoP> {
  const keyPair = options.keyPair ?? (await generateDpopKeyPair());
  // Workers' types return ArrayBuffer | JsonWebKey for every format.
  const { kty, crv, x, y } = (await crypto.subtle.exportKey('jwk', keyPair.publicKey as CryptoKey)) as Jwk;
  const jwk = { kty, crv, x, y } as Jwk;
  const nonces = options.nonces ?? new Map<string, string>();
  const proof: DPoP['proof'] = async (method, url, { accessToken, nonce = nonces.get(new URL(url).origin) } = {}) =>
    signJwt(
      { typ: 'dpop+jwt', jwk },
      {
        jti: jwtId(),
        htm: method.toUpperCase(),
        htu: dpopHtu(url),
        iat: epochSeconds(options.now),
        ...(nonce === undefined ? {} : { nonce }),
        ...(accessToken === undefined ? {} : { ath: await dpopAth(accessToken) }),
      },
      keyPair.privateKey,
    );
  return {
    keyPair,
    jwk,
    proof,
    fetch: (base) => dpopFetch(proof, nonces, base),
  };
}

/**
 * A fetch that sends a new proof from `proof` with every attempt (`ath` when the request carries
 * `Authorization: DPoP <token>`), keeps each server's latest `DPoP-Nonce` in `nonces` by origin, and
 * answers a `use_dpop_nonce` challenge (token endpoint 400, resource 401) with exactly one retry.
 * `DPoP.fetch` is this with the handle's own key; a holder that signs elsewhere (the Worker's
 * credential objects) gives its own `proof`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 */
export function dpopFetch(proof: DPoP['proof'], nonces: Map<string, string>, base?: FetchLike): FetchLike {
  const wrapped: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const reauthenticate = init?.headers instanceof Headers ? reauthentication.get(init.headers) : undefined;
    const accessToken = DPOP_AUTHORIZATION.exec(request.headers.get('authorization') ?? '')?.[1];
    const origin = new URL(request.url).origin;
    // Two attempts at most: the first, and one retry when the server asks for a nonce.
    for (let attempt = 0; ; attempt++) {
      const sent = nonces.get(origin);
      // A retry carries the client's authentication made anew (a fresh assertion), when it has any.
      const fresh = attempt > 0 ? await reauthenticate?.() : undefined;
      const headers = new Headers(fresh?.headers ?? request.headers);
      headers.set('dpop', await proof(request.method, request.url, { accessToken, nonce: sent }));
      // The original stays unread for the retry: a body can be sent only once.
      const response = await (base ?? fetch)(new Request(attempt === 0 ? request.clone() : request, fresh ? { headers, body: fresh.body } : { headers }));
      const nonce = response.headers.get('dpop-nonce');
      if (nonce !== null) nonces.set(origin, nonce);
      if (attempt > 0 || nonce === null || nonce === sent || !(await isNonceChallenge(response))) return response;
      await response.body?.cancel();
    }
  };
  unwrapped.set(wrapped, base);
  return wrapped;
}

/**
 * The profile with DPoP on every token request (token, revocation, introspection, PAR): the server
 * binds the tokens it issues to the key. Keep the handle's key with the tokens (in a browser,
 * `loadDpopKeyPair(storeKey(profile))`): a refresh token bound to it is useless with another key. The
 * proofs ride on the profile's fetch, so give a custom fetch to the profile, not to `createTokenSource`.
 * A nonce retry authenticates the client anew: a JWT client assertion (`private_key_jwt`,
 * `client_secret_jwt`) is never sent twice.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5
 */
export function withDpop<P extends Profile>(profile: P, dpop: DPoP): P & { readonly dpop: DPoP } {
  const base = profile.fetch !== undefined && unwrapped.has(profile.fetch) ? unwrapped.get(profile.fetch) : profile.fetch;
  const endpointAuth = profile.endpointAuth && Object.fromEntries(Object.entries(profile.endpointAuth).map(([endpoint, auth]) => [endpoint, reauthenticating(auth)]));
  return { ...profile, fetch: dpop.fetch(base), clientAuth: reauthenticating(profile.clientAuth), ...(endpointAuth ? { endpointAuth } : {}), dpop };
}

/** `auth`, registering with each request how to authenticate it anew (for {@link dpopFetch}'s retry). */
function reauthenticating(auth: ClientAuthentication): ClientAuthentication {
  const authenticate = unwrappedAuth.get(auth) ?? auth;
  const clientAuth: ClientAuthentication = async (params, headers) => {
    const asked = { ...params };
    await authenticate(params, headers);
    // Called at retry time, when the headers also carry the content type the body was encoded in.
    reauthentication.set(headers, async () => {
      const again = { ...asked };
      const fresh = new Headers(headers);
      await authenticate(again, fresh);
      return { headers: fresh, body: fresh.get('content-type') === 'application/json' ? JSON.stringify(again) : new URLSearchParams(again).toString() };
    });
  };
  unwrappedAuth.set(clientAuth, authenticate);
  return clientAuth;
}
