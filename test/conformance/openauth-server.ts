/**
 * A real OpenAuth issuer (@openauthjs/openauth) on 127.0.0.1, for conformance tests of the OAuth
 * client. OpenAuth's own Hono app answers; ours are only the node:http adapter, in-memory storage and
 * one provider that logs the test user in without a page (its `/authorize` succeeds at once) and
 * takes one client for the client credentials grant.
 */
import { issuer } from '@openauthjs/openauth';
import { MemoryStorage } from '@openauthjs/openauth/storage/memory';
import * as v from 'valibot';
import { fetchServer, type LocalServer } from '../helpers/local-server.js';

export interface OpenAuthServer extends LocalServer {
  /** The issuer: its own origin, as OpenAuth names it in its metadata. */
  issuer: string;
  /** Every request's method, path and answer status, in arrival order. */
  requests: { method: string; path: string; status: number }[];
}

// Test data, not secrets; CANARY so tests can assert it never leaks.
export const OPENAUTH_CLIENTS = {
  /** Public clients: OpenAuth authenticates no client at its token endpoint for the code flow. */
  public: { clientId: 'tokengate-openauth-spa' },
  /** The client credentials grant goes to a provider (`provider=auto`), which checks id and secret. */
  machine: { clientId: 'tokengate-openauth-machine', clientSecret: 'CANARY-openauth-machine-secret-7e3a9c1b5d' },
  redirectUri: 'http://127.0.0.1/callback',
} as const;

/** The provider: no page, the test user at once; and the one machine client. */
const auto = {
  type: 'auto',
  init(routes: { get(path: string, handler: (c: unknown) => unknown): void }, ctx: { success(c: unknown, properties: Record<string, unknown>): Promise<Response> }) {
    routes.get('/authorize', (c) => ctx.success(c, { id: 'test-user' }));
  },
  async client(input: { clientID: string; clientSecret: string }) {
    if (input.clientID !== OPENAUTH_CLIENTS.machine.clientId || input.clientSecret !== OPENAUTH_CLIENTS.machine.clientSecret) throw new Error('unknown client');
    return { id: input.clientID };
  },
};

const subjects = { user: v.object({ id: v.string() }) };

export async function startOpenAuth(): Promise<OpenAuthServer> {
  const app = issuer({
    providers: { auto },
    storage: MemoryStorage(),
    subjects: subjects as never,
    // Refresh tokens rotate at once: no reuse window.
    ttl: { reuse: 0 },
    success: async (ctx, value) => ctx.subject('user' as never, { id: String((value as { id?: unknown }).id ?? 'machine') } as never),
  });
  const requests: OpenAuthServer['requests'] = [];
  const server = await fetchServer(
    (request) => Promise.resolve(app.fetch(request)),
    (request, response) => requests.push({ method: request.method, path: new URL(request.url).pathname, status: response.status }),
  );
  return { ...server, issuer: server.url, requests };
}
