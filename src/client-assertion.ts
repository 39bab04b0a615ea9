import { DEV } from '#dev';
import type { ClientAuthentication } from './client-auth.js';
import { utf8 } from './encoding.js';
import { ERR_INVALID_CONFIG, TokenGateError } from './errors.js';
import { epochSeconds, jwsAlgorithm, jwtId, signJwt } from './jws.js';
import type { Jwk, WebCryptoKey } from './types.js';

/**
 * A client's JWT signing key, for `oauth2({ clientKey })` and `discover(issuer, { clientKey })`: an
 * asymmetric key means `private_key_jwt`, a client secret `client_secret_jwt`. Made by
 * {@link importClientKey}; it holds the WebCrypto key, never its material.
 */
export interface ClientKey {
  readonly method: 'private_key_jwt' | 'client_secret_jwt';
  /**
   * The client authentication of `clientId`, with assertions for the token endpoint or, with
   * `assertionAudience: 'issuer'`, the issuer. Refuses an `auth` of another method.
   */
  authenticate(clientId: string, tokenUrl: string, options: { auth?: string; issuer?: string; assertionAudience?: 'token_endpoint' | 'issuer' }): ClientAuthentication;
}

export interface ClientKeyOptions {
  /** For a PKCS#8 key: `ES256` (P-256) or `RS256`. Default: whichever the key is. */
  alg?: 'ES256' | 'RS256';
  /** The `kid` header; default the JWK's `kid`. */
  kid?: string;
  /** Assertion lifetime in seconds. Default 60. */
  lifetime?: number;
  /** Injectable clock (epoch ms). */
  now?: () => number;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ES256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const RS256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/**
 * Imports a client's key: a private JWK (EC P-256 → ES256, RSA → RS256), a PKCS#8 PEM or DER, a
 * WebCrypto private key, or `{ secret }` for `client_secret_jwt` (HS256). The key is imported
 * non-extractable.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2
 * @see https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication
 */
export async function importClientKey(
  key: Jwk | string | Uint8Array<ArrayBuffer> | WebCryptoKey | { secret: string },
  options: ClientKeyOptions = {},
): Promise<ClientKey> {
  let cryptoKey: WebCryptoKey;
  let kid = options.kid;
  try {
    if (typeof key === 'object' && 'secret' in key) {
      cryptoKey = await crypto.subtle.importKey('raw', utf8.encode(key.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    } else if (typeof key === 'string' || key instanceof Uint8Array) {
      const der = typeof key === 'string' ? Uint8Array.from(atob(key.replace(/-----[^-]+-----|\s/g, '')), (c) => c.charCodeAt(0)) : key;
      const tries = options.alg === 'RS256' ? [RS256] : options.alg === 'ES256' ? [ES256] : [ES256, RS256];
      cryptoKey = await firstImport(tries.map((algorithm) => () => crypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign'])));
    } else if ('kty' in key) {
      kid ??= (key as Jwk).kid;
      // Only the key members: `alg`, `use` or `key_ops` of a published JWK must not make the import fail.
      const { kty, d, n, e, p, q, dp, dq, qi, crv, x, y } = key as Jwk;
      const jwk = { kty, d, n, e, p, q, dp, dq, qi, crv, x, y } as JsonWebKey;
      cryptoKey = await crypto.subtle.importKey('jwk', jwk, kty === 'RSA' ? RS256 : ES256, false, ['sign']);
    } else {
      cryptoKey = key as WebCryptoKey;
    }
  } catch (cause) {
    // The cause names the key format problem, never its material.
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'clientKey could not be imported: a private EC P-256 or RSA key (JWK or PKCS#8) or { secret } is needed' : 'clientKey', { cause });
  }
  if (cryptoKey.type === 'public' || jwsAlgorithm(cryptoKey) === undefined) {
    throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'clientKey must be a private ES256 or RS256 key, or an HMAC secret' : 'clientKey');
  }
  const lifetime = options.lifetime ?? 60;
  const method = cryptoKey.type === 'secret' ? 'client_secret_jwt' : 'private_key_jwt';
  return {
    method,
    authenticate: (clientId, tokenUrl, profile) => {
      if ((profile.auth ?? method) !== method) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `clientKey is a ${method} key, not one for auth "${profile.auth}"` : `clientKey ${method} auth "${profile.auth}"`);
      const audience = profile.assertionAudience === 'issuer' ? profile.issuer : tokenUrl;
      if (!audience) throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? 'assertionAudience "issuer" needs the issuer' : 'assertionAudience issuer');
      return async (params) => {
      const iat = epochSeconds(options.now);
      params['client_id'] = clientId;
      params['client_assertion_type'] = ASSERTION_TYPE;
      params['client_assertion'] = await signJwt(
        { typ: 'JWT', ...(kid === undefined ? {} : { kid }) },
        { iss: clientId, sub: clientId, aud: audience, jti: jwtId(), iat, exp: iat + lifetime },
        cryptoKey,
      );
      };
    },
  };
}

async function firstImport(tries: (() => Promise<CryptoKey>)[]): Promise<CryptoKey> {
  let failure: unknown;
  for (const attempt of tries) {
    try {
      return await attempt();
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}
