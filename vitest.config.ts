import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { devSecrets } from './sandbox/dev-secrets.mjs';
import { chromiumArgs, chromiumPath } from './test/helpers/chromium.js';

/** The core's unit tests run unchanged in all three runtimes: that is what isomorphic means here. */
const unit = ['test/unit/**/*.test.ts'];
/** The core's share of the interop suite, against real servers the global setup starts in Node (Node runs test/conformance). */
const interop = ['test/interop/**/*.test.ts'];

/**
 * The Worker imports the core by its package name, as any app would; in tests that name points at
 * the TypeScript sources (wrangler.toml has the same aliases for `wrangler dev`).
 */
const src = (path: string): string => new URL(`./src/${path}`, import.meta.url).pathname;
const packageAliases = [
  { find: /^tokengate$/, replacement: src('index.ts') },
  { find: /^tokengate\/profiles$/, replacement: src('profiles/index.ts') },
  { find: /^tokengate\/http$/, replacement: src('http/index.ts') },
  { find: /^tokengate\/browser$/, replacement: src('browser/index.ts') },
];

/**
 * The origins `npm start` passes the Worker (wrangler.toml's top level has none, so that a deploy
 * without `--env` fails closed): the tests' Worker is on http://127.0.0.1:8787 as far as it knows.
 */
const devOrigins = { PUBLIC_ORIGIN: 'http://127.0.0.1:8787', ALLOWED_ORIGINS: ['http://127.0.0.1:8787'] };

/**
 * The unit tests that assert codes and facts, never a sentence: run against the production messages
 * too (redaction included: canary). The others assert sentences, which only development builds carry.
 */
const productionTests = ['messages', 'canary', 'token-response', 'token-source', 'grants', 'scope', 'pkce', 'http', 'dpop'].map((name) => `test/unit/${name}.test.ts`);

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias: packageAliases },
        test: {
          name: 'node',
          environment: 'node',
          include: [...unit, 'test/node/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        // The core as a production build gets it (what the `production` condition of `#dev` resolves to):
        // codes and facts, no sentences. Vitest drops a `production` condition outside production mode, so
        // `#dev` is pointed at that target here; test/node/package.test.ts checks each condition's target.
        resolve: { alias: [...packageAliases, { find: /^#dev$/, replacement: new URL('./dev/off.js', import.meta.url).pathname }] },
        test: {
          name: 'node-production',
          environment: 'node',
          include: productionTests,
        },
      },
      {
        test: {
          name: 'browser',
          include: [...unit, 'test/browser/**/*.test.ts', ...interop],
          globalSetup: ['test/interop/global-setup.ts'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: chromiumPath, args: chromiumArgs } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        plugins: [
          cloudflareTest({
            miniflare: { compatibilityDate: '2026-08-01', compatibilityFlags: ['nodejs_compat'], kvNamespaces: ['TOKENS'] },
          }),
        ],
        resolve: { alias: packageAliases },
        test: {
          name: 'workerd',
          include: [...unit, 'test/workerd/**/*.test.ts', ...interop],
          globalSetup: ['test/interop/global-setup.ts'],
        },
      },
      {
        // npm start's stack in Chromium (Playwright), as a person uses it.
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The Worker linking accounts at a real authorization server: oidc-provider, started in Node by
        // the global setup; the Worker gets vendors pointing at it (client secret, private_key_jwt, PAR).
        plugins: [
          cloudflareTest(({ inject }) => {
            const issuer = inject<string>('oidcIssuer');
            /** A vendor at oidc-provider: linking with `openid read`, and its userinfo as a session route. */
            const vendor = (options: Record<string, string | boolean>, secrets: Record<string, string>, at = issuer) => ({
              profile: 'oauth2',
              options: { issuer: at, requireIss: true, authorizeUrl: `${at}/auth`, tokenUrl: `${at}/token`, apiBaseUrl: at, grant: 'none', ...options },
              secrets,
              link: { scope: 'openid read' },
              routes: [{ method: 'GET', path: '/me', access: 'session' }],
            });
            /** The DPoP-bound client's vendors: its userinfo as a session route, and the same path with the app's own token. */
            const dpopVendor = (options: Record<string, string | boolean>, at = issuer) => ({
              ...vendor({ clientId: 'tokengate-worker-dpop', ...options }, { clientSecret: 'OIDC_DPOP_SECRET' }, at),
              routes: [{ method: 'GET', path: '/me', access: 'session' }, { method: 'GET', path: '/me/app', access: 'public' }, { method: 'GET', path: '/refused', access: 'session' }],
            });
            return {
              main: './worker/index.ts',
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: {
                  ...devOrigins,
                  TOKENGATE_KEYS: devSecrets()['TOKENGATE_KEYS']!,
                  OIDC_CLIENT_SECRET: inject<string>('oidcClientSecret'),
                  OIDC_CLIENT_KEY: inject<string>('oidcClientKeyJwk'),
                  OIDC_PAR_KEY: inject<string>('oidcParKeyPem'),
                  OIDC_UNREGISTERED_KEY: inject<string>('oidcUnregisteredKeyJwk'),
                  OIDC_DPOP_SECRET: inject<string>('oidcDpopSecret'),
                  OIDC_JWT_DPOP_KEY: inject<string>('oidcJwtDpopKeyJwk'),
                  BETTER_AUTH_CLIENT_SECRET: inject<{ clientSecret: string }>('betterAuth').clientSecret,
                  VENDORS: {
                    oidc: vendor({ clientId: 'tokengate-basic' }, { clientSecret: 'OIDC_CLIENT_SECRET' }),
                    // private_key_jwt with the key (a JWK) in a Worker secret.
                    'oidc-jwt': vendor({ clientId: 'tokengate-worker-jwt' }, { clientKey: 'OIDC_CLIENT_KEY' }),
                    // The same client with a key it never registered: every assertion is refused.
                    'oidc-badkey': vendor({ clientId: 'tokengate-worker-jwt' }, { clientKey: 'OIDC_UNREGISTERED_KEY' }),
                    // A client the server takes only pushed requests from (PAR), its key a PKCS#8 PEM, aud = the issuer.
                    // DPoP (RFC 9449): a client registered with dpop_bound_access_tokens; its key made and kept by the Worker.
                    'oidc-dpop': dpopVendor({ dpop: true, grant: 'client_credentials', scope: 'read' }),
                    // The same client without DPoP: the server refuses its token requests (the control for the one above).
                    'oidc-nodpop': dpopVendor({ grant: 'client_credentials', scope: 'read' }),
                    // The same client at a server that requires DPoP nonces at every endpoint (RFC 9449 §8, §9); its
                    // API reached by another name of the same server, an origin whose nonce the Worker has yet to learn.
                    'oidc-dpop-nonce': dpopVendor({ dpop: true, apiBaseUrl: inject<string>('oidcNonceIssuer').replace('127.0.0.1', 'localhost') }, inject<string>('oidcNonceIssuer')),
                    // private_key_jwt + DPoP + PAR at the nonce server: a fresh assertion on every nonce retry.
                    'oidc-jwt-dpop': vendor({ clientId: 'tokengate-worker-jwt-dpop', dpop: true, parUrl: `${inject<string>('oidcNonceIssuer')}/request`, revocationUrl: `${inject<string>('oidcNonceIssuer')}/token/revocation` }, { clientKey: 'OIDC_JWT_DPOP_KEY' }, inject<string>('oidcNonceIssuer')),
                    // A server that revokes the access token with the refresh token, then refuses the unknown one with 400.
                    'oidc-revoke-all': vendor({ clientId: 'tokengate-revoke-all', revocationUrl: `${inject<string>('oidcStrictRevocationIssuer')}/token/revocation` }, { clientSecret: 'OIDC_CLIENT_SECRET' }, inject<string>('oidcStrictRevocationIssuer')),
                    // better-auth's OAuth provider, which revokes the access token with the refresh token and then answers 400.
                    'better-auth': {
                      ...vendor(
                        { clientId: inject<{ clientId: string }>('betterAuth').clientId, authorizeUrl: `${inject<{ issuer: string }>('betterAuth').issuer}/oauth2/authorize`, tokenUrl: `${inject<{ issuer: string }>('betterAuth').issuer}/oauth2/token`, revocationUrl: `${inject<{ issuer: string }>('betterAuth').issuer}/oauth2/revoke` },
                        { clientSecret: 'BETTER_AUTH_CLIENT_SECRET' },
                        inject<{ issuer: string }>('betterAuth').issuer,
                      ),
                      link: { scope: 'openid offline_access read' },
                    },
                    'oidc-par': vendor({ clientId: 'tokengate-worker-par', clientKeyId: 'worker-par-1', assertionAudience: 'issuer', parUrl: `${issuer}/request` }, { clientKey: 'OIDC_PAR_KEY' }),
                  },
                },
              },
            };
          }),
        ],
        resolve: { alias: packageAliases },
        test: {
          name: 'worker-oidc',
          include: ['test/worker-oidc/**/*.test.ts'],
          globalSetup: ['test/worker-oidc/global-setup.ts'],
          testTimeout: 30_000,
        },
      },
      {
        // The Worker itself, from wrangler.toml: real KV and Durable Object bindings in workerd, with
        // the vendor sandbox in its own `wrangler dev` (the global setup) and its demo secrets.
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: './worker/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            // The rate limits are wrangler.toml's [[ratelimits]] bindings, as under `npm start`.
            miniflare: { bindings: { ...devOrigins, SANDBOX_ORIGIN: inject<string>('sandboxOrigin'), ...devSecrets() } },
          })),
        ],
        resolve: { alias: packageAliases },
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          globalSetup: ['test/worker/global-setup.ts'],
          setupFiles: ['test/worker/setup.ts'],
          // One sandbox for the project: its files take turns, each from a reset sandbox.
          fileParallelism: false,
          testTimeout: 30_000,
        },
      },
    ],
  },
});
