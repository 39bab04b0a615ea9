/**
 * A real @node-oauth/oauth2-server authorization server on 127.0.0.1 with an in-memory model, for
 * conformance tests of the OAuth client. The library's own token and authorize handlers answer; only
 * storage (a Map) and the user's consent (always yes, as user `alice`) are ours.
 */
import { randomBytes } from 'node:crypto';
import OAuth2Server from '@node-oauth/oauth2-server';
import { bodyOf, httpServer, type LocalServer } from '../helpers/local-server.js';

export interface NodeOAuthServer extends LocalServer {
  tokenUrl: string;
  authorizeUrl: string;
  /** POSTs to the token endpoint so far, refused ones included. */
  tokenRequests: number;
}

// Secrets carry CANARY so tests can assert they never leak. `special` has every character that
// RFC 6749 §2.3.1's form-encoding changes: + / = : %
export const NODE_CLIENTS = {
  basic: { clientId: 'node-basic', clientSecret: 'CANARY-node-basic-secret-4c1e9a7b2d5f8e03a6c9b1d4' },
  special: { clientId: 'node-special', clientSecret: 'CANARY+node/special=secret:with%25percent' },
  user: { username: 'alice', password: 'CANARY-alice-password+1' },
  redirectUri: 'http://127.0.0.1/callback',
} as const;

const GRANTS = ['client_credentials', 'password', 'refresh_token', 'authorization_code'];

function inMemoryModel() {
  const clients = [NODE_CLIENTS.basic, NODE_CLIENTS.special].map(({ clientId, clientSecret }) => ({
    id: clientId,
    secret: clientSecret,
    grants: GRANTS,
    redirectUris: [NODE_CLIENTS.redirectUri],
  }));
  const user = { id: NODE_CLIENTS.user.username };
  const tokens = new Map<string, OAuth2Server.Token>();
  const refreshTokens = new Map<string, OAuth2Server.Token>();
  const codes = new Map<string, OAuth2Server.AuthorizationCode>();
  const model: OAuth2Server.AuthorizationCodeModel & OAuth2Server.ClientCredentialsModel & OAuth2Server.PasswordModel & OAuth2Server.RefreshTokenModel = {
    // The secret is compared exactly as the library decoded it: Basic without form-decoding.
    getClient: async (id, secret) => {
      const client = clients.find((c) => c.id === id);
      if (client === undefined || (secret !== null && secret !== client.secret)) return false;
      return { id: client.id, grants: client.grants, redirectUris: client.redirectUris };
    },
    saveToken: async (token, client, owner) => {
      const saved = { ...token, client, user: owner };
      tokens.set(token.accessToken, saved);
      if (token.refreshToken) refreshTokens.set(token.refreshToken, saved);
      return saved;
    },
    getAccessToken: async (accessToken) => tokens.get(accessToken) ?? false,
    getRefreshToken: async (refreshToken) => {
      const token = refreshTokens.get(refreshToken);
      return token ? { ...token, refreshToken } : false;
    },
    revokeToken: async (token) => refreshTokens.delete(token.refreshToken),
    getUser: async (username, password) => (username === NODE_CLIENTS.user.username && password === NODE_CLIENTS.user.password ? user : false),
    getUserFromClient: async () => user,
    validateScope: async (_user, _client, scope) => scope ?? ['read'],
    saveAuthorizationCode: async (code, client, owner) => {
      const saved = { ...code, client, user: owner } as OAuth2Server.AuthorizationCode;
      codes.set(code.authorizationCode, saved);
      return saved;
    },
    getAuthorizationCode: async (code) => codes.get(code) ?? false,
    revokeAuthorizationCode: async (code) => codes.delete(code.authorizationCode),
    verifyScope: async () => true,
  };
  return model;
}

const headersOf = (raw: NodeJS.Dict<string | string[]>): Record<string, string> =>
  Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value ?? '']));

/**
 * CORS for calls from a browser page (the interop suite in Chromium): any origin, no credentials, the
 * headers a token request carries. The library itself has no CORS; a deployment puts it in front.
 */
const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type, accept', 'access-control-allow-methods': 'POST' } as const;

/** Starts the server; `close()` stops it and its connections. `cors` answers browser pages too. */
export async function startNodeOAuthServer(options: { cors?: boolean } = {}): Promise<NodeOAuthServer> {
  const oauth = new OAuth2Server({ model: inMemoryModel(), accessTokenLifetime: 600, allowEmptyState: false });
  const state = { tokenRequests: 0 };
  const server = await httpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const cors = options.cors ? CORS : {};
    if (options.cors && req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    const request = new OAuth2Server.Request({
      method: req.method ?? 'GET',
      headers: headersOf(req.headers),
      query: Object.fromEntries(url.searchParams),
      body: Object.fromEntries(new URLSearchParams(await bodyOf(req))),
    });
    const response = new OAuth2Server.Response();
    if (url.pathname === '/token' && req.method === 'POST') {
      state.tokenRequests++;
      await oauth.token(request, response).catch(() => undefined);
    } else if (url.pathname === '/authorize' && req.method === 'GET') {
      const authenticateHandler = { handle: () => ({ id: NODE_CLIENTS.user.username }) };
      await oauth.authorize(request, response, { authenticateHandler }).catch(() => undefined);
    } else {
      response.status = 404;
      response.body = { error: 'not_found' };
    }
    const headers = { ...(response.headers as Record<string, string>), ...(response.body ? { 'content-type': 'application/json' } : {}), ...cors };
    res.writeHead(response.status ?? 200, headers).end(response.body ? JSON.stringify(response.body) : undefined);
  });
  return {
    ...server,
    tokenUrl: `${server.url}/token`,
    authorizeUrl: `${server.url}/authorize`,
    get tokenRequests() {
      return state.tokenRequests;
    },
  };
}

/** A fresh value for a test that needs one nobody else used. */
export const nonce = (): string => randomBytes(8).toString('hex');
