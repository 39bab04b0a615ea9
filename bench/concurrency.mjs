// Token requests under concurrency, against ONE local mock server (node:http on 127.0.0.1, a random
// port): ours (createApiClient + createTokenSource) beside @badgateway/oauth2-client's OAuth2Fetch and
// the refresh hook from ky's README. Every client talks real HTTP to the same server; nothing is faked
// on the client side, and all three use the real clock.
//
// The server's token endpoint counts requests per client, issues numbered access tokens with the
// lifetime the row asks for and rotates the refresh token on every refresh. It accepts an older
// refresh token too (a strict server would call that reuse and revoke the grant, RFC 9700 §4.14.2,
// which would turn the extra refreshes into failed calls and make the counts of the later waves
// meaningless); reuses are counted and reported. The API endpoint accepts only the newest access token
// of its client, and only until that token expires.
import { createServer } from 'node:http';
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client';
import ky from 'ky';
import { createTokenSource } from '../dist/index.js';
import { createApiClient } from '../dist/http/index.js';
import { oauth2 } from '../dist/profiles/index.js';
import { pathToFileURL } from 'node:url';

/** Milliseconds the token endpoint takes to answer, so concurrent callers really overlap. */
const TOKEN_LATENCY = 5;

function startServer() {
  /** client id → { requests, reuses, n, newest, newestRefresh } */
  const clients = new Map();
  /** access token → { client, expiresAt }; refresh token → client */
  const accessTokens = new Map();
  const refreshTokens = new Map();

  function client(id) {
    let state = clients.get(id);
    if (state === undefined) {
      // Default lifetime 100 s: OAuth2Fetch schedules a background refresh timer only for tokens with
      // more than 2 minutes left, and such a timer would keep the process alive after the run.
      state = { id, requests: 0, reuses: 0, n: 0, lifetime: 100, newest: undefined, newestRefresh: undefined };
      clients.set(id, state);
    }
    return state;
  }

  /** Issues a token set (counted only when it answers a token request). */
  function issue(state, lifetimeSeconds = state.lifetime) {
    state.n++;
    const accessToken = `${state.id}.at-${state.n}`;
    const refreshToken = `${state.id}.rt-${state.n}`;
    accessTokens.set(accessToken, { client: state, expiresAt: Date.now() + lifetimeSeconds * 1000 });
    refreshTokens.set(refreshToken, state);
    state.newest = accessToken;
    state.newestRefresh = refreshToken;
    return { access_token: accessToken, token_type: 'Bearer', expires_in: lifetimeSeconds, refresh_token: refreshToken };
  }

  const json = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'POST' && url.pathname === '/token') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const params = new URLSearchParams(body);
        const state = refreshTokens.get(params.get('refresh_token') ?? '');
        if (params.get('grant_type') !== 'refresh_token' || state === undefined) {
          json(res, 400, { error: 'invalid_grant' });
          return;
        }
        state.requests++;
        if (params.get('refresh_token') !== state.newestRefresh) state.reuses++;
        setTimeout(() => json(res, 200, issue(state)), TOKEN_LATENCY);
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api') {
      const answer = () => {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const entry = token === undefined ? undefined : accessTokens.get(token);
        if (entry !== undefined && entry.client.newest === token && Date.now() < entry.expiresAt) {
          json(res, 200, { ok: true });
        } else {
          json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
        }
      };
      // `hold`: answer later, judging the token when the answer is sent (a slow API call).
      const hold = Number(url.searchParams.get('hold') ?? 0);
      if (hold > 0) setTimeout(answer, hold);
      else answer();
      return;
    }
    json(res, 404, { error: 'not_found' });
  });

  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        base: `http://127.0.0.1:${port}`,
        client,
        issue,
        /** Server-side revocation: the client's current access token stops working. */
        revoke(state) {
          state.newest = undefined;
        },
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * The three implementations. Each takes the seed token set the server issued (as the app would hold
 * it after the code exchange) and answers `call(path)`, resolving to true for a 2xx answer.
 */
const IMPLEMENTATIONS = {
  ours(base, clientId, seed, { expired, skew }) {
    const profile = oauth2({ tokenUrl: `${base}/token`, clientId });
    const tokens = {
      accessToken: seed.access_token,
      tokenType: 'Bearer',
      expiresAt: expired ? Date.now() - 1 : Date.now() + seed.expires_in * 1000,
      refreshToken: seed.refresh_token,
    };
    const tokenSource = createTokenSource(profile, { tokens, ...(skew === undefined ? {} : { skew }) });
    const api = createApiClient({ tokenSource, prefixUrl: `${base}/` });
    return async (path) => {
      try {
        await api.get(path).arrayBuffer();
        return true;
      } catch {
        return false;
      }
    };
  },

  badgateway(base, clientId, seed, { expired }) {
    const client = new OAuth2Client({ server: base, clientId, tokenEndpoint: '/token' });
    const token = {
      accessToken: seed.access_token,
      refreshToken: seed.refresh_token,
      expiresAt: expired ? Date.now() - 1 : Date.now() + seed.expires_in * 1000,
    };
    const wrapper = new OAuth2Fetch({ client, getNewToken: () => null, getStoredToken: () => token, onError: () => {} });
    return async (path) => {
      try {
        const response = await wrapper.fetch(`${base}/${path}`);
        await response.arrayBuffer();
        return response.ok;
      } catch {
        return false;
      }
    };
  },

  /**
   * ky's README: `afterResponse` refreshes on a 401 when `retryCount === 0` and retries with the new
   * token (`ky.retry`, its default delay); `beforeRequest` attaches the current token. The refresh
   * request is an RFC 6749 §6 refresh in place of the README's `ky.post('…/auth/refresh')`.
   */
  ky(base, clientId, seed) {
    let token = seed.access_token;
    let refreshToken = seed.refresh_token;
    const api = ky.create({
      prefix: `${base}/`,
      hooks: {
        beforeRequest: [
          ({ request }) => {
            request.headers.set('Authorization', `Bearer ${token}`);
          },
        ],
        afterResponse: [
          async ({ request, response, retryCount }) => {
            if (response.status === 401 && retryCount === 0) {
              const body = await ky
                .post(`${base}/token`, { body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }) })
                .json();
              token = body.access_token;
              refreshToken = body.refresh_token;
              const headers = new Headers(request.headers);
              headers.set('Authorization', `Bearer ${token}`);
              return ky.retry({ request: new Request(request, { headers }), code: 'TOKEN_REFRESHED' });
            }
          },
        ],
      },
    });
    return async (path) => {
      try {
        await api.get(path).arrayBuffer();
        return true;
      } catch {
        return false;
      }
    };
  },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The rows: each runs one implementation against a fresh client on the server. */
const ROWS = [
  {
    what: '100 concurrent API calls with an expired token',
    minimum: 1,
    async run(server, make, id) {
      const state = server.client(id);
      const seed = server.issue(state, -1); // already expired, on the server too
      const call = make(server.base, id, seed, { expired: true });
      const results = await Promise.all(Array.from({ length: 100 }, () => call('api')));
      return { state, failed: results.filter((ok) => !ok).length };
    },
  },
  {
    what: '50 late 401s carrying an already-replaced token (1 refresh after a revocation is needed)',
    minimum: 1,
    async run(server, make, id) {
      const state = server.client(id);
      // 100 s: long enough for the row, and short enough that OAuth2Fetch schedules no background
      // refresh timer (it does so only for tokens with more than 2 minutes left).
      state.lifetime = 100;
      const seed = server.issue(state);
      const call = make(server.base, id, seed, {});
      // 50 slow calls go out with the current token; the server answers them 300 ms later.
      const slow = Array.from({ length: 50 }, () => call('api?hold=300'));
      await sleep(50);
      // The server revokes that token; the next call gets a 401 and the client gets a new token…
      server.revoke(state);
      const trigger = await call('api');
      // …so the 50 slow calls come back 401 carrying a token the client has already replaced.
      const results = [trigger, ...(await Promise.all(slow))];
      return { state, failed: results.filter((ok) => !ok).length };
    },
  },
  {
    what: '10 calls every 100 ms for 2.6 s with 1 s tokens (3 lifetimes)',
    minimum: 3,
    async run(server, make, id, name) {
      const state = server.client(id);
      state.lifetime = 1;
      const seed = server.issue(state, -1);
      // Ours with a small skew, `skew: 50` ms. The default (30 s, scaled down to a tenth of a 1 s
      // lifetime) renews 100–200 ms before expiry, which inside 2.6 s can cost a fourth token,
      // depending on where the waves fall against the renewal window.
      const call = make(server.base, id, seed, { expired: true, skew: name === 'ours' ? 50 : undefined });
      const calls = [];
      const start = performance.now();
      for (let wave = 0; wave <= 26; wave++) {
        const due = start + wave * 100 - performance.now();
        if (due > 0) await sleep(due);
        for (let i = 0; i < 10; i++) calls.push(call('api'));
      }
      const results = await Promise.all(calls);
      return { state, failed: results.filter((ok) => !ok).length };
    },
  },
];

export const NAMES = { ours: 'tokengate', badgateway: '@badgateway/oauth2-client `OAuth2Fetch`', ky: 'ky README refresh hook' };

/**
 * Runs every row for every implementation, one after another. Answers, per row, the token requests
 * and failed calls of each implementation and the minimum.
 */
export async function concurrency() {
  const server = await startServer();
  const rows = [];
  try {
    for (const [index, row] of ROWS.entries()) {
      const results = {};
      for (const [name, make] of Object.entries(IMPLEMENTATIONS)) {
        const { state, failed } = await row.run(server, make, `r${index}-${name}`, name);
        results[name] = { requests: state.requests, reuses: state.reuses, failed };
      }
      rows.push({ what: row.what, minimum: row.minimum, results });
    }
  } finally {
    await server.close();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const start = performance.now();
  console.log(JSON.stringify(await concurrency(), null, 2));
  console.log(`${((performance.now() - start) / 1000).toFixed(1)} s`);
}
