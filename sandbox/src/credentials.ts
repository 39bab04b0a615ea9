import credentials from '../credentials.json';
import type { SandboxCredentials, VendorName } from './types.js';

/**
 * The fixed demo credentials the sandbox accepts (`sandbox/credentials.json`, which `npm start` and the
 * tests also read to give the product Worker its dev secrets). Not secret (they only open the sandbox),
 * but every secret-like value contains `sandbox-secret` so tests can scan answers, logs and storage for
 * leaks. The oauth2 server's redirect URIs are the demo's BFF callback and its token-mediating callback
 * page (also at /callback, where Workers static assets serve callback.html), on both loopback names.
 *
 * The instellix secret carries `+`, `/` and `=` on purpose: instellix wants plain
 * `base64(client_id:client_secret)` (vendor doc 002), and those characters change under the
 * form-encoding RFC 6749 §2.3.1 asks for, so a client that form-encodes is refused as it would be live.
 */
export const SANDBOX_CREDENTIALS: SandboxCredentials = deepFreeze(credentials);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) for (const inner of Object.values(value)) deepFreeze(inner);
  return Object.freeze(value);
}

/** Access-token lifetimes in seconds, as each vendor document states them. */
export const DEFAULT_LIFETIMES: Readonly<Record<VendorName, number>> = Object.freeze({
  instabox: 86_400, // Instabox doc 000: "Tokens are valid for 24 hours"
  eshopbox: 3_600, // Eshopbox doc 001 gives no number; an hour is the usual Auth0-style default
  instellix: 300, // instellix doc 002: "default is 5 minutes"
  shopware: 600, // Shopware doc 003: "remains valid for 10 minutes", expires_in 600
  instacart: 86_400, // Instacart Connect: a day
});
