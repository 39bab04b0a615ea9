import type { SandboxCredentials, VendorName } from './types.js';

/**
 * The fixed demo credentials the sandbox accepts. Not secret (they only open the sandbox), but every
 * secret-like value contains `sandbox-secret` so tests can scan answers, logs and storage for leaks.
 *
 * The instellix secret carries `+`, `/` and `=` on purpose: instellix wants plain
 * `base64(client_id:client_secret)` (vendor doc 002), and those characters change under the
 * form-encoding RFC 6749 §2.3.1 asks for, so a client that form-encodes is refused as it would be live.
 */
export const SANDBOX_CREDENTIALS: SandboxCredentials = Object.freeze({
  instabox: Object.freeze({ clientId: 'sandbox-instabox-client', clientSecret: 'instabox-sandbox-secret-3f9c2a' }),
  eshopbox: Object.freeze({
    clientId: 'sandbox-eshopbox-client',
    clientSecret: 'eshopbox-sandbox-secret-8b41d7',
    refreshToken: 'eshopbox-refresh-sandbox-secret-c05e93a7d2',
  }),
  instellix: Object.freeze({
    realm: 'acme',
    clientId: 'sandbox-instellix-client',
    clientSecret: 'instellix-sandbox-secret-7d4e1b+k/9=',
  }),
  shopware: Object.freeze({
    clientId: 'sandbox-shopware-integration',
    clientSecret: 'shopware-sandbox-secret-51ae0c',
    username: 'admin',
    password: 'shopware-admin-sandbox-secret-e2b6',
  }),
  instacart: Object.freeze({ clientId: 'sandbox-instacart-client', clientSecret: 'instacart-sandbox-secret-9a27f4' }),
  // The generic OAuth 2.0 server: the demo's BFF callback and its token-mediating callback page (also
  // at /callback, where Workers static assets serve callback.html), on both loopback names.
  oauth2: Object.freeze({
    clientId: 'sandbox-oauth2-client',
    clientSecret: 'oauth2-sandbox-secret-4c8e61',
    publicClientId: 'sandbox-oauth2-spa',
    redirectUris: Object.freeze([
      'http://127.0.0.1:8787/link/oauth2/callback',
      'http://127.0.0.1:8787/callback.html',
      'http://127.0.0.1:8787/callback',
      'http://localhost:8787/link/oauth2/callback',
      'http://localhost:8787/callback.html',
      'http://localhost:8787/callback',
    ]),
  }),
});

/** Access-token lifetimes in seconds, as each vendor document states them. */
export const DEFAULT_LIFETIMES: Readonly<Record<VendorName, number>> = Object.freeze({
  instabox: 86_400, // Instabox doc 000: "Tokens are valid for 24 hours"
  eshopbox: 3_600, // Eshopbox doc 001 gives no number; an hour is the usual Auth0-style default
  instellix: 300, // instellix doc 002: "default is 5 minutes"
  shopware: 600, // Shopware doc 003: "remains valid for 10 minutes", expires_in 600
  instacart: 86_400, // Instacart Connect: a day
});
