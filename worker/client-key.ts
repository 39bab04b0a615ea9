import { importClientKey, TokenGateError, ErrorCode, type ClientKey } from 'tokengate';

/**
 * A vendor's `private_key_jwt` key from a Worker secret (`secrets = { clientKey = "..." }`): a private
 * JWK as JSON or a PKCS#8 PEM. The shape is checked here, synchronously, so `loadConfig` reports a
 * wrong secret with the other problems; WebCrypto imports only asynchronously, so the import runs once,
 * on the first request that needs an assertion (a token request or a PAR push), and is kept for the
 * config's lifetime (one per isolate or Durable Object). Answers a problem line instead of a key when
 * the secret cannot be a private key; no line repeats any of its content.
 */
export function clientKeyFromSecret(value: string, label: string, secretName: string, kid: string | undefined): ClientKey | string {
  const text = value.trim();
  let key: Record<string, unknown> | string;
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return `${label}: the Worker secret ${secretName} starts like a JWK but is not valid JSON`;
    }
    const jwk = parsed as Record<string, unknown>;
    if (jwk['kty'] !== 'EC' && jwk['kty'] !== 'RSA') return `${label}: the JWK in ${secretName} must be an EC P-256 or RSA key (kty "EC" or "RSA")`;
    if (typeof jwk['d'] !== 'string') return `${label}: the JWK in ${secretName} is a public key; the Worker needs the private key (with "d")`;
    key = jwk;
  } else if (/^-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----$/.test(text)) {
    key = text;
  } else if (text.startsWith('-----BEGIN ')) {
    // SEC1 (`EC PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`), an encrypted key, a certificate: WebCrypto imports none of them.
    return `${label}: the PEM in ${secretName} is not an unencrypted PKCS#8 private key (-----BEGIN PRIVATE KEY-----); convert it with openssl pkcs8 -topk8 -nocrypt`;
  } else {
    return `${label}: the Worker secret ${secretName} must hold a private JWK (JSON) or a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)`;
  }
  let imported: Promise<ClientKey> | undefined;
  const load = (): Promise<ClientKey> =>
    (imported ??= importClientKey(key as Parameters<typeof importClientKey>[0], kid === undefined ? {} : { kid }).catch((cause: unknown) => {
      // importClientKey's message names the format problem, never the material.
      throw new TokenGateError(ErrorCode.INVALID_CONFIG, `${label}: the key in the Worker secret ${secretName} could not be imported (a private EC P-256 or RSA key is needed)`, { cause });
    }));
  return {
    method: 'private_key_jwt',
    authenticate: (clientId, tokenUrl, options) => {
      // The checks importClientKey's key makes at profile creation, made here so loadConfig reports them.
      if ((options.auth ?? 'private_key_jwt') !== 'private_key_jwt') throw new TokenGateError(ErrorCode.INVALID_CONFIG, `clientKey is a private_key_jwt key, not one for auth "${options.auth}"`);
      if (options.assertionAudience === 'issuer' && !options.issuer) throw new TokenGateError(ErrorCode.INVALID_CONFIG, 'assertionAudience "issuer" needs the issuer');
      let authenticate: ReturnType<ClientKey['authenticate']> | undefined;
      return async (params, headers) => {
        authenticate ??= (await load()).authenticate(clientId, tokenUrl, options);
        await authenticate(params, headers);
      };
    },
  };
}
