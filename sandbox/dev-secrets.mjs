// The product Worker's secrets for local development against the sandbox: the sandbox's demo
// credentials (sandbox/credentials.json) under the secret names wrangler.toml's vendors use, plus a
// fixed development key ring and API key. They live here, with the sandbox, and reach the Worker only
// through `npm start` (an env file for `wrangler dev`) and the test configuration; the production
// Worker never contains them (test/node/production-bundle.test.ts scans its bundle).
import { readFileSync } from 'node:fs';

const credentials = JSON.parse(readFileSync(new URL('./credentials.json', import.meta.url), 'utf8'));

/** Secret name → value, for `wrangler dev --env-file` and the workerd tests' bindings. */
export function devSecrets() {
  return {
    INSTABOX_CLIENT_SECRET: credentials.instabox.clientSecret,
    ESHOPBOX_CLIENT_SECRET: credentials.eshopbox.clientSecret,
    ESHOPBOX_REFRESH_TOKEN: credentials.eshopbox.refreshToken,
    INSTELLIX_CLIENT_SECRET: credentials.instellix.clientSecret,
    SHOPWARE_CLIENT_SECRET: credentials.shopware.clientSecret,
    SHOPWARE_PASSWORD: credentials.shopware.password,
    INSTACART_CLIENT_SECRET: credentials.instacart.clientSecret,
    OAUTH2_CLIENT_SECRET: credentials.oauth2.clientSecret,
    // Fixed development values: public, so good for nothing but a Worker on a loopback origin.
    TOKENGATE_API_KEY: 'dev-api-key-sandbox-secret-5c2e',
    TOKENGATE_KEYS: 'dev:ZGV2LW9ubHkta2V5LWZvci10aGUtc2FuZGJveC0wMDA',
  };
}

/** The same as the text of an env file (`NAME="value"` lines). */
export function devSecretsEnvFile() {
  return Object.entries(devSecrets()).map(([name, value]) => `${name}=${JSON.stringify(value)}\n`).join('');
}
