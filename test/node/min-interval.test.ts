import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenSource } from '../../src/index.js';
import { createApiClient } from '../../src/http/index.js';
import { instellix } from '../../src/profiles/index.js';
import { bodyOf, coldRelay, httpServer, type LocalServer } from '../helpers/local-server.js';

// instellix: "Constant polling of new tokens within a 5s window can additionally result in a 401 status
// response for otherwise correct credentials." This server measures that window the strict way,
// between request *arrivals*; its first request arrives late (a cold connection) and is answered
// slowly. Nothing is mocked: real fetch, real sockets on 127.0.0.1.
const WINDOW = 5_000;
const arrivals: number[] = [];
let issued = 0;
let revoked = 0;
let server: LocalServer;
let relay: LocalServer;

beforeAll(async () => {
  server = await httpServer(async (req, res) => {
    if (req.url === '/acme/oauth2/token') {
      const at = Date.now();
      const previous = arrivals.at(-1);
      arrivals.push(at);
      await bodyOf(req);
      if (previous !== undefined && at - previous < WINDOW) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      // The first answer is slow.
      if (issued === 0) await new Promise((resolve) => setTimeout(resolve, 300));
      issued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `at-${issued}`, token_type: 'bearer', expires_in: 269 }));
      return;
    }
    const token = /^Bearer at-(\d+)$/.exec(req.headers.authorization ?? '')?.[1];
    const ok = token !== undefined && Number(token) > revoked;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
  });
  relay = await coldRelay(server.url, 1_000);
});
afterAll(async () => {
  await relay.close();
  await server.close();
});

describe('minimum interval as the server sees it', () => {
  it('50 API calls waiting on a renewal all succeed, and the server never sees two token requests inside its window', async () => {
    const profile = instellix({ realm: 'acme', environment: 'sandbox', clientId: 'c', clientSecret: 's', tokenUrl: `${relay.url}/acme/oauth2/token`, apiBaseUrl: relay.url });
    const tokenSource = createTokenSource(profile);
    const api = createApiClient({ tokenSource, prefix: relay.url, retry: { limit: 1 } });
    await expect(api.get('orders').json()).resolves.toEqual({ ok: true });
    // The server stops accepting the first token at once: every caller now needs the renewal.
    revoked = 1;
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => api.get('orders').json()));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(50);
    expect(arrivals).toHaveLength(2);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(WINDOW);
  }, 15_000);
});
