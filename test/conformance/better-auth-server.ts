/**
 * A real better-auth server with its OAuth 2.1 provider plugin (@better-auth/oauth-provider) on
 * 127.0.0.1, for conformance tests of the OAuth client. better-auth's own handler answers; ours are
 * only the node:http adapter, its in-memory database adapter (better-auth needs a database; the
 * memory adapter from its own packages needs no migration), a signed-up test user whose session
 * cookie stands in for the login page, and the clients, registered through its admin API.
 */
import { oauthProvider } from '@better-auth/oauth-provider';
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { getAuthTables } from 'better-auth/db';
import { jwt } from 'better-auth/plugins';
import { fetchServer, type LocalServer } from '../helpers/local-server.js';

export interface BetterAuthServer extends LocalServer {
  /** The issuer: `<origin>/api/auth`, where its metadata lives under RFC 8414's well-known path. */
  issuer: string;
  /** The test user's session cookie: a browser that has signed in. */
  sessionCookie: string;
  confidential: { clientId: string; clientSecret: string };
  public: { clientId: string };
  redirectUri: string;
  /** Every request's method, path and answer status, in arrival order. */
  requests: { method: string; path: string; status: number }[];
}

const REDIRECT_URI = 'http://127.0.0.1/callback';

/** What a browser page of another origin needs to call it (better-auth sets no CORS headers of its own). */
const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type, dpop', 'access-control-allow-methods': 'GET, POST' };

/** Starts the server; `close()` stops it and its connections. `cors` answers browser pages too; `redirectUris` are registered beside the tests' own. */
export async function startBetterAuth(serving: { cors?: boolean; redirectUris?: readonly string[] } = {}): Promise<BetterAuthServer> {
  const redirectUris = [REDIRECT_URI, ...(serving.redirectUris ?? [])];
  let handler: ((request: Request) => Promise<Response>) | undefined;
  const requests: BetterAuthServer['requests'] = [];
  const server = await fetchServer(
    async (request) => {
      if (!serving.cors) return handler!(request);
      if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS });
      const response = await handler!(request);
      const headers = new Headers(response.headers);
      for (const [name, value] of Object.entries(CORS)) headers.set(name, value);
      return new Response(response.body, { status: response.status, headers });
    },
    (request, response) => requests.push({ method: request.method, path: new URL(request.url).pathname, status: response.status }),
  );
  const origin = server.url;
  const db: Record<string, unknown[]> = {};
  const options = {
    baseURL: origin,
    basePath: '/api/auth',
    secret: 'tokengate-test-better-auth-secret-0123456789abcdef',
    database: memoryAdapter(db),
    emailAndPassword: { enabled: true },
    logger: { disabled: true },
    plugins: [
      jwt(),
      oauthProvider({
        loginPage: '/login',
        consentPage: '/consent',
        scopes: ['openid', 'profile', 'email', 'offline_access', 'read'],
        allowUnauthenticatedClientRegistration: true,
        // The test user may register clients, with client credentials scopes.
        clientPrivileges: () => true,
      }),
    ],
  };
  // The memory adapter holds one array per model: every model of better-auth and its plugins.
  for (const table of Object.values(getAuthTables(options as Parameters<typeof getAuthTables>[0]))) db[table.modelName] = [];
  const auth = betterAuth(options);
  handler = (request) => auth.handler(request);
  const signUp = await auth.api.signUpEmail({ body: { email: 'test-user@example.com', password: 'CANARY-better-auth-password-1', name: 'Test User' }, asResponse: true });
  const sessionCookie = signUp.headers.getSetCookie().map((line) => line.split(';')[0]!).join('; ');
  const api = auth.api as unknown as { adminCreateOAuthClient(input: { body: Record<string, unknown>; headers: Headers }): Promise<{ client_id: string; client_secret?: string }> };
  const headers = new Headers({ cookie: sessionCookie });
  const confidential = await api.adminCreateOAuthClient({
    body: { application_type: 'native', redirect_uris: redirectUris, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], client_credentials_scopes: ['read'], skip_consent: true, scope: 'openid offline_access read' },
    headers,
  });
  const pub = await api.adminCreateOAuthClient({
    body: { application_type: 'native', redirect_uris: redirectUris, token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], skip_consent: true, scope: 'openid offline_access read' },
    headers,
  });
  return {
    ...server,
    issuer: `${origin}/api/auth`,
    sessionCookie,
    confidential: { clientId: confidential.client_id, clientSecret: confidential.client_secret! },
    public: { clientId: pub.client_id },
    redirectUri: REDIRECT_URI,
    requests,
  };
}
