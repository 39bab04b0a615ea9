import type { TestProject } from 'vitest/node';
import { CLIENTS, startAuthServer, type AuthServer } from '../conformance/auth-server.js';
import { startBetterAuth, type BetterAuthServer } from '../conformance/better-auth-server.js';

declare module 'vitest' {
  interface ProvidedContext {
    oidcIssuer: string;
    oidcClientSecret: string;
    /** The private_key_jwt client's private key as a JWK (JSON), as an operator puts it in a Worker secret. */
    oidcClientKeyJwk: string;
    /** The PAR-only client's private key as a PKCS#8 PEM. */
    oidcParKeyPem: string;
    /** A private key no client registered: its assertions must be refused. */
    oidcUnregisteredKeyJwk: string;
    /** The DPoP-bound client's secret (client_secret_basic, dpop_bound_access_tokens). */
    oidcDpopSecret: string;
    /** A second oidc-provider that requires DPoP nonces at every endpoint. */
    oidcNonceIssuer: string;
    /** The private key (JWK) of the client at the nonce server with private_key_jwt, DPoP and PAR. */
    oidcJwtDpopKeyJwk: string;
    /** An oidc-provider whose revocation endpoint refuses unknown tokens with 400, as better-auth's does. */
    oidcStrictRevocationIssuer: string;
    /** better-auth with its OAuth provider plugin: its issuer, the Worker's client, the test user's session cookie. */
    betterAuth: { issuer: string; clientId: string; clientSecret: string; sessionCookie: string };
  }
}

/** The Worker's BFF callback for a vendor (PUBLIC_ORIGIN http://127.0.0.1:8787 in wrangler.toml). */
const callbackOf = (vendor: string): string => `http://127.0.0.1:8787/link/${vendor}/callback`;

async function es256(kid: string) {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const der = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const pem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(der).toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { publicJwk: { kty, crv, x, y, alg: 'ES256', use: 'sig', kid }, privateJwk: JSON.stringify({ ...(await crypto.subtle.exportKey('jwk', pair.privateKey)), kid }), pem };
}

// Starts oidc-provider on 127.0.0.1 in Node for the Worker's linking tests in workerd.
let server: AuthServer | undefined;
let nonceServer: AuthServer | undefined;
let strictRevocation: AuthServer | undefined;
let betterAuth: BetterAuthServer | undefined;

/** A client whose access tokens must be DPoP-bound (RFC 9449 §5.2); its tokens come only with a proof. */
const DPOP_SECRET = 'CANARY-worker-dpop-secret-4b8e1c7a9d3f5b2e6a0c8d4f1b7e3a9c';
const dpopClient = {
  client_id: 'tokengate-worker-dpop',
  client_secret: DPOP_SECRET,
  token_endpoint_auth_method: 'client_secret_basic',
  dpop_bound_access_tokens: true,
  redirect_uris: ['oidc-dpop', 'oidc-nodpop', 'oidc-dpop-nonce'].map(callbackOf),
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [jwt, par, unregistered, jwtDpop] = await Promise.all([es256('worker-jwt-1'), es256('worker-par-1'), es256('nobody-1'), es256('worker-jwt-dpop-1')]);
  nonceServer = await startAuthServer({
    clients: [
      dpopClient,
      // private_key_jwt + DPoP + PAR at the server that requires nonces: each retry needs a new assertion.
      {
        client_id: 'tokengate-worker-jwt-dpop',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [jwtDpop.publicJwk] },
        dpop_bound_access_tokens: true,
        require_pushed_authorization_requests: true,
        redirect_uris: [callbackOf('oidc-jwt-dpop')],
      },
    ],
    requireDpopNonce: true,
  });
  server = await startAuthServer({
    clients: [
      dpopClient,
      {
        client_id: 'tokengate-worker-jwt',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [jwt.publicJwk] },
        redirect_uris: [callbackOf('oidc-jwt'), callbackOf('oidc-badkey'), 'http://127.0.0.1:8787/callback'],
      },
      {
        client_id: 'tokengate-worker-par',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [par.publicJwk] },
        require_pushed_authorization_requests: true,
        redirect_uris: [callbackOf('oidc-par')],
      },
    ],
  });
  project.provide('oidcIssuer', server.issuer);
  project.provide('oidcClientSecret', CLIENTS.basic.clientSecret);
  project.provide('oidcClientKeyJwk', jwt.privateJwk);
  project.provide('oidcParKeyPem', par.pem);
  project.provide('oidcUnregisteredKeyJwk', unregistered.privateJwk);
  project.provide('oidcDpopSecret', DPOP_SECRET);
  project.provide('oidcNonceIssuer', nonceServer.issuer);
  project.provide('oidcJwtDpopKeyJwk', jwtDpop.privateJwk);
  strictRevocation = await startAuthServer({
    revocationRefusesUnknown: true,
    clients: [{ client_id: 'tokengate-revoke-all', client_secret: CLIENTS.basic.clientSecret, token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [callbackOf('oidc-revoke-all')] }],
  });
  project.provide('oidcStrictRevocationIssuer', strictRevocation.issuer);
  betterAuth = await startBetterAuth({ redirectUris: [callbackOf('better-auth')] });
  project.provide('betterAuth', { issuer: betterAuth.issuer, ...betterAuth.confidential, sessionCookie: betterAuth.sessionCookie });
  return async () => {
    await betterAuth?.close();
    await strictRevocation?.close();
    await nonceServer?.close();
    await server?.close();
  };
}
