import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenSource, type TokenSourceOptions } from '../../src/index.js';
import { createApiClient } from '../../src/http/index.js';
import { oauth2 } from '../../src/profiles/index.js';

// The token lifecycle against a real HTTP server on 127.0.0.1: a token endpoint and an API that
// accepts only tokens it issued and has not revoked.
interface ServerState {
  tokenRequests: number;
  expiresIn: number;
  issued: Set<string>;
  /** Token → how long to hold the 401 for its n-th use (simulates slow, late answers). */
  rejectAfter: Map<string, (use: number) => number>;
  uses: Map<string, number>;
  /** Late 401s sent when the replacement token already existed. */
  lateAfterReplacement: number;
  /** Answers for the next token requests, in order, before normal issuing resumes. */
  tokenScript: ((res: ServerResponse) => void)[];
}

let server: Server;
let base: string;
const state: ServerState = { tokenRequests: 0, expiresIn: 3600, issued: new Set(), rejectAfter: new Map(), uses: new Map(), lateAfterReplacement: 0, tokenScript: [] };

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  for await (const _ of req); // drain the body
  if (req.method === 'POST' && req.url === '/token') {
    state.tokenRequests++;
    const scripted = state.tokenScript.shift();
    if (scripted) return scripted(res);
    const token = `at-${state.tokenRequests}`;
    state.issued.add(token);
    return send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: state.expiresIn });
  }
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const holdFor = token === undefined ? undefined : state.rejectAfter.get(token);
  if (token !== undefined && holdFor !== undefined) {
    const use = (state.uses.get(token) ?? 0) + 1;
    state.uses.set(token, use);
    const hold = holdFor(use);
    await new Promise((resolve) => setTimeout(resolve, hold));
    if (hold > 0 && state.issued.has('at-2')) state.lateAfterReplacement++;
    return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
  if (token === undefined || !state.issued.has(token)) return send(res, 401, { error: 'invalid_token' });
  return send(res, 200, { orders: [], token });
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  Object.assign(state, { tokenRequests: 0, expiresIn: 3600, issued: new Set(), rejectAfter: new Map(), uses: new Map(), lateAfterReplacement: 0, tokenScript: [] });
});

function client(options: Partial<TokenSourceOptions> = {}) {
  const profile = oauth2({ tokenUrl: `${base}/token`, clientId: 'shop', clientSecret: 'shop-secret' });
  const tokenSource = createTokenSource(profile, options);
  const api = createApiClient({ tokenSource, prefixUrl: `${base}/api`, retry: { limit: 1 }, timeout: 20_000 });
  return { tokenSource, api };
}

describe('token lifecycle against a real server', () => {
  it('1,000 concurrent API calls on a cold cache make exactly 1 token request', async () => {
    const { api } = client();
    const answers = await Promise.all(Array.from({ length: 1000 }, () => api.get('orders').json<{ token: string }>()));
    expect(state.tokenRequests).toBe(1);
    expect(new Set(answers.map((a) => a.token))).toEqual(new Set(['at-1']));
  });

  it('bursts in each of 3 token lifetimes make exactly 3 token requests', async () => {
    const clock = { now: 1_000_000 };
    state.expiresIn = 60;
    const { api } = client({ now: () => clock.now });
    for (let lifetime = 0; lifetime < 3; lifetime++) {
      clock.now = 1_000_000 + lifetime * 60_000 + 1;
      await Promise.all(Array.from({ length: 100 }, () => api.get('orders').json()));
      clock.now += 40_000; // later in the same lifetime, before the refresh-ahead window
      await Promise.all(Array.from({ length: 100 }, () => api.get('orders').json()));
    }
    expect(state.tokenRequests).toBe(3);
  });

  it('steady traffic over 3 lifetimes renews only ahead of expiry, once per effective lifetime', async () => {
    const clock = { now: 1_000_000 };
    state.expiresIn = 60;
    const { api } = client({ now: () => clock.now });
    // One call per simulated second for 180 s. Margin = 60 s / 10 = 6 s; renewal starts 12 s before
    // expiry, so tokens are replaced every 48 s: at 0, 48, 96 and 144 s.
    for (let second = 0; second < 180; second++) {
      clock.now = 1_000_000 + second * 1000;
      await api.get('orders').json();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(state.tokenRequests).toBe(4);
  });

  it('50 late 401s carrying an already-replaced token make no extra token request', async () => {
    const { api, tokenSource } = client();
    const first = await tokenSource.getToken(); // at-1
    // The API stops accepting at-1. 100 calls all carry at-1: 50 get their 401 at once, the other 50
    // only 400 ms later, when at-2 has long replaced at-1.
    state.issued.delete(first.accessToken);
    state.rejectAfter.set(first.accessToken, (use) => (use <= 50 ? 0 : 400));
    const answers = await Promise.all(Array.from({ length: 100 }, () => api.get('orders').json<{ token: string }>()));
    expect(state.uses.get(first.accessToken)).toBe(100);
    expect(state.lateAfterReplacement).toBe(50);
    expect(answers.every((a) => a.token === 'at-2')).toBe(true);
    expect(state.tokenRequests).toBe(2); // the first token, and one refresh for all 100 401s
  });

  it('waits out a 429 Retry-After, then gets the token', async () => {
    const waits: number[] = [];
    state.tokenScript.push((res) => send(res, 429, { error: 'slow_down' }, { 'retry-after': '2' }));
    const { tokenSource } = client({ sleep: async (ms) => void waits.push(ms) });
    await expect(tokenSource.getToken()).resolves.toMatchObject({ accessToken: 'at-2' });
    expect(state.tokenRequests).toBe(2);
    expect(waits).toEqual([2000]);
  });
});
