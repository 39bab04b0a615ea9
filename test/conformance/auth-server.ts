/**
 * A real oidc-provider authorization server on 127.0.0.1 for conformance
 * tests of the OAuth client. Nothing here is mocked: requests go over TCP to
 * the same provider code a production deployment would run.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REFUSING_RESOURCE_PATH, REQUEST_LOG_PATH } from './request-log.js';

export interface AuthServer {
  /** Origin of the provider, e.g. 'http://127.0.0.1:54321'. */
  issuer: string;
  /** POSTs to the token endpoint seen so far, including rejected ones. */
  tokenRequests: number;
  /** Every request's method, path, DPoP header, Authorization scheme (never the credential) and answer status, in arrival order. */
  requests: { method: string; path: string; dpop: string | undefined; scheme?: string | undefined; status?: number }[];
  close(): Promise<void>;
}

export interface ConfidentialClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface PublicClient {
  readonly clientId: string;
}

export interface TestClients {
  readonly basic: ConfidentialClient;
  readonly post: ConfidentialClient;
  /** Basic, with a secret holding every character RFC 6749 §2.3.1's form-encoding changes: + / = : % */
  readonly special: ConfidentialClient;
  readonly public: PublicClient;
  readonly redirectUri: string;
  readonly workerRedirectUris: readonly string[];
}

// Secrets carry 'CANARY' so tests can assert they never leak into error
// messages, logs or URLs. They are fixed rather than generated so a failing
// run can be reproduced byte for byte.
export const CLIENTS: TestClients = {
  basic: {
    clientId: 'tokengate-basic',
    clientSecret: 'CANARY-basic-secret-2f7c9a1e4b8d63f05a9e1c7b2d4f8a06e3b5c9d1f7a2e4b6',
  },
  post: {
    clientId: 'tokengate-post',
    clientSecret: 'CANARY-post-secret-8e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a5c',
  },
  special: {
    clientId: 'tokengate-special',
    clientSecret: 'CANARY+oidc/special=secret:with%25percent-3a9c1e7b5d2f8a04',
  },
  public: {
    clientId: 'tokengate-public',
  },
  // Nothing listens here: followAuthorization stops at this redirect and hands
  // the URL back instead of fetching it.
  redirectUri: 'http://127.0.0.1/callback',
  // The Worker's redirect URIs in its tests (PUBLIC_ORIGIN http://127.0.0.1:8787): BFF and token-mediating.
  workerRedirectUris: ['http://127.0.0.1:8787/link/oidc/callback', 'http://127.0.0.1:8787/callback'],
};

/**
 * Resource indicator (RFC 8707) the provider knows about. Plain requests
 * without `resource` don't need it; it's there so tests can also exercise
 * the `resource` parameter without hitting oidc-provider's "MUST change
 * getResourceServerInfo" default, which rejects every indicator.
 */
export const API_RESOURCE = 'urn:tokengate:api';

export const TEST_ACCOUNT_ID = 'test-user';

const TOKEN_PATH = '/token';
const INTERACTION_PREFIX = '/interaction/';

// ---------------------------------------------------------------------------
// Minimal structural view of the oidc-provider API this harness uses. The
// package ships no type declarations and @types/oidc-provider isn't installed.

interface KoaContextLike {
  readonly method: string;
  readonly path: string;
  status: number;
  body: unknown;
  get(header: string): string;
}

type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<void>) => Promise<void>;

interface GrantLike {
  addOIDCScope(scope: string): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}

interface GrantModel {
  new (properties: { accountId: string; clientId: string }): GrantLike;
  find(id: string): Promise<GrantLike | undefined>;
}

interface InteractionDetailsLike {
  readonly uid: string;
  readonly grantId?: string;
  readonly params: Readonly<Record<string, unknown>>;
}

interface InteractionResult {
  login: { accountId: string };
  consent: { grantId: string };
}

interface ProviderLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(middleware: KoaMiddleware): void;
  on(event: 'server_error', listener: (ctx: unknown, error: unknown) => void): void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetailsLike>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: InteractionResult,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
  readonly Grant: GrantModel;
}

interface ClientLike {
  grantTypeAllowed(grantType: string): boolean;
}

interface OidcProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => ProviderLike;
  errors: { InvalidTarget: new (description?: string) => Error };
}

// ---------------------------------------------------------------------------

let signingKeys: Promise<JsonWebKey> | undefined;

// Supplying our own key avoids oidc-provider's "development-only signing keys"
// warning on every start; one RSA key is shared across servers in a process
// because generating it is the slowest part of startup.
function signingKey(): Promise<JsonWebKey> {
  return (signingKeys ??= (async () => {
    const pair = await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    );
    const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
    // WebCrypto bookkeeping members that don't belong in a published JWKS.
    delete jwk.key_ops;
    delete jwk.ext;
    return { ...jwk, alg: 'RS256', use: 'sig' };
  })());
}

function listen(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('auth server did not bind a TCP port'));
        return;
      }
      resolve(address);
    });
  });
}

function requestedScope(params: Readonly<Record<string, unknown>>): string {
  return typeof params['scope'] === 'string' ? params['scope'] : '';
}

function requestedResources(params: Readonly<Record<string, unknown>>): string[] {
  const resource = params['resource'];
  if (typeof resource === 'string') return [resource];
  if (Array.isArray(resource)) return resource.filter((r): r is string => typeof r === 'string');
  return [];
}

async function handleInteraction(
  provider: ProviderLike,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const clientId = details.params['client_id'];
  if (typeof clientId !== 'string') throw new Error('interaction without client_id');

  // Login and consent are answered together so a single interaction round
  // trip is enough, whichever prompt oidc-provider raised first.
  const existing = details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId);
  const grant = existing ?? new provider.Grant({ accountId: TEST_ACCOUNT_ID, clientId });
  const scope = requestedScope(details.params);
  if (scope !== '') {
    grant.addOIDCScope(scope);
    for (const resource of requestedResources(details.params)) {
      grant.addResourceScope(resource, scope);
    }
  }
  const grantId = await grant.save();

  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: TEST_ACCOUNT_ID }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

/** What a test may turn on beyond the defaults. */
export interface AuthServerOptions {
  /** More clients' metadata (private_key_jwt with `jwks`, client_secret_jwt, DPoP-bound, ...). */
  clients?: Record<string, unknown>[];
  /** RFC 9126 `requirePushedAuthorizationRequests`. */
  requirePar?: boolean;
  /** DPoP nonces required at every endpoint (RFC 9449 §8, §9). */
  requireDpopNonce?: boolean;
  /**
   * Fields that replace the provider's own in its metadata document, to play a server whose metadata
   * says less (or other) than it does: one that lists fewer client authentication methods than it
   * accepts, or per-endpoint methods (RFC 8414 §2), which oidc-provider does not publish.
   */
  metadata?: Record<string, unknown>;
  /**
   * The revocation endpoint answers a token it does not know (also one revoked along with its refresh
   * token, which oidc-provider does, RFC 7009 §2.1) with 400 invalid_request "token not found", as
   * better-auth does, instead of the 200 of RFC 7009 §2.2.
   */
  revocationRefusesUnknown?: boolean;
}

export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  // Loaded lazily so merely importing CLIENTS doesn't pull in the provider
  // (and so the untyped module can be given the structural type above).
  // @ts-expect-error -- no declarations for oidc-provider; typed via OidcProviderModule.
  const oidc = (await import('oidc-provider')) as unknown as OidcProviderModule;
  const jwk = await signingKey();

  const server = createServer();
  const { port } = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;

  const authServer: AuthServer = {
    issuer,
    tokenRequests: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // fetch keeps connections alive; without this close() waits for them
        // to time out.
        server.closeAllConnections();
      }),
  };

  const grantTypes = ['authorization_code', 'refresh_token', 'client_credentials'];
  const common = {
    response_types: ['code'],
    redirect_uris: [CLIENTS.redirectUri, ...CLIENTS.workerRedirectUris],
  };

  const configuration: Record<string, unknown> = {
    clients: [
      {
        ...common,
        client_id: CLIENTS.basic.clientId,
        client_secret: CLIENTS.basic.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: grantTypes,
      },
      {
        ...common,
        client_id: CLIENTS.post.clientId,
        client_secret: CLIENTS.post.clientSecret,
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: grantTypes,
      },
      {
        ...common,
        client_id: CLIENTS.special.clientId,
        client_secret: CLIENTS.special.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: grantTypes,
      },
      {
        ...common,
        client_id: CLIENTS.public.clientId,
        token_endpoint_auth_method: 'none',
        // oidc-provider refuses client_credentials for clients without
        // authentication.
        grant_types: ['authorization_code', 'refresh_token'],
      },
      ...(options.clients ?? []).map((client) => ({ ...common, grant_types: grantTypes, ...client })),
    ],
    // read/write are declared as provider-level scopes so plain OAuth 2.0
    // requests (no `openid`, no `resource`) are accepted and yield opaque
    // access tokens carrying those scopes.
    scopes: ['openid', 'offline_access', 'read', 'write'],
    findAccount: (_ctx: unknown, accountId: string) => ({
      accountId,
      claims: () => ({ sub: accountId }),
    }),
    jwks: { keys: [{ ...jwk, kid: 'tokengate-test-rs256' }] },
    cookies: {
      keys: ['tokengate-test-cookie-key-1-9f8e7d6c5b4a', 'tokengate-test-cookie-key-2-0a1b2c3d4e5f'],
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: options.requirePar === true },
      dPoP: {
        enabled: true,
        nonceSecret: Buffer.alloc(32, 7),
        requireNonce: () => options.requireDpopNonce === true,
      },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: (_ctx: unknown, resourceIndicator: string) => {
          if (resourceIndicator !== API_RESOURCE) throw new oidc.errors.InvalidTarget();
          return { scope: 'read write', accessTokenFormat: 'opaque', audience: API_RESOURCE };
        },
      },
    },
    pkce: {
      // The default only forces PKCE on public clients; the client under test
      // always sends it, so demanding it everywhere catches regressions.
      required: () => true,
    },
    // The default only issues refresh tokens when offline_access was granted,
    // which plain OAuth 2.0 clients never ask for.
    issueRefreshToken: (_ctx: unknown, client: ClientLike) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${INTERACTION_PREFIX}${interaction.uid}`,
    },
    // Explicit values silence the "you SHOULD change" notices the defaults print.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      Grant: 86400,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 86400,
      Session: 86400,
    },
    clientBasedCORS: () => true,
  };

  const provider = new oidc.default(issuer, configuration);

  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === TOKEN_PATH) authServer.tokenRequests += 1;
    const entry: AuthServer['requests'][number] = { method: ctx.method, path: ctx.path, dpop: ctx.get('DPoP') || undefined, scheme: ctx.get('Authorization').split(' ')[0] || undefined };
    authServer.requests.push(entry);
    await next();
    entry.status = ctx.status;
  });

  if (options.metadata !== undefined) {
    const fields = options.metadata;
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path.startsWith('/.well-known/') && typeof ctx.body === 'object' && ctx.body !== null) Object.assign(ctx.body, fields);
    });
  }

  if (options.revocationRefusesUnknown === true) {
    provider.use(async (ctx, next) => {
      await next();
      const entities = (ctx as unknown as { oidc?: { entities?: Record<string, unknown> } }).oidc?.entities ?? {};
      if (ctx.method === 'POST' && ctx.path === '/token/revocation' && ctx.status === 200 && !entities['AccessToken'] && !entities['RefreshToken']) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: 'token not found' };
      }
    });
  }

  // Provider 500s are otherwise swallowed into a generic error response.
  provider.on('server_error', (_ctx, error) => {
    console.error('oidc-provider server_error', error);
  });

  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    // The request log as this server saw it, for tests that run where this process's memory is out of
    // reach (workerd). Not an oidc-provider route; it is not logged itself.
    if (req.method === 'GET' && path === REQUEST_LOG_PATH) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(authServer.requests));
      return;
    }
    // A resource that refuses every token, valid or not (a scope or per-resource refusal), beside the
    // userinfo endpoint that takes it: the pattern a renewal budget must hold against (row 23).
    if (req.method === 'GET' && path === REFUSING_RESOURCE_PATH) {
      authServer.requests.push({ method: 'GET', path, dpop: typeof req.headers['dpop'] === 'string' ? req.headers['dpop'] : undefined, scheme: req.headers.authorization?.split(' ')[0], status: 401 });
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'DPoP error="insufficient_scope", Bearer error="insufficient_scope"' });
      res.end('{"error":"insufficient_scope"}');
      return;
    }
    if (req.method === 'GET' && path.startsWith(INTERACTION_PREFIX)) {
      handleInteraction(provider, req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader('content-type', 'text/plain; charset=utf-8');
        }
        res.end(`interaction failed: ${error instanceof Error ? error.message : String(error)}`);
      });
      return;
    }
    callback(req, res);
  });

  return authServer;
}

// ---------------------------------------------------------------------------

export { followAuthorization } from './follow.js';
