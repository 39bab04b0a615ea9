// The reliability soak's engine, shared by `npm run soak` (scripts/soak.mjs) and its short version in
// `npm test` (test/node/soak.test.ts), and the wrangler start-up used by bench/edge.mjs.
//
// It starts `wrangler dev --local` on a snapshot of the tree, drives allow-listed proxied GETs at a fixed
// concurrency from many caller IPs while the sandbox injects token-endpoint faults and revocations, and
// classifies every answer. Everything it sends goes to 127.0.0.1 only; every loop is bounded in count
// and time.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { freePort } from './free-port.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The origin wrangler.toml allows, for the browser-style calls (Origin + CSRF header). */
export const ORIGIN = 'http://127.0.0.1:8787';

/** The vendors' allow-listed GET routes; `endpoint` is the sandbox token endpoint that serves its credential. */
export const ROUTES = [
  { vendor: 'instabox', endpoint: 'instabox', path: '/api/instabox/v2/orders' },
  { vendor: 'eshopbox', endpoint: 'eshopbox', path: '/api/eshopbox/api/v1/orders' },
  { vendor: 'instellix', endpoint: 'instellix', path: '/api/instellix/api/v1/shipments' },
  { vendor: 'shopware', endpoint: 'shopware', path: '/api/shopware/api/v3/product/b7d2554b0ce847cd82f3ac9bd1c0dfad' },
  { vendor: 'instacart', endpoint: 'instacart', path: '/api/instacart/v2/fulfillment/stores' },
  // The echo upstream has its own token endpoint (`/_echo/token`, Instabox's dialect) and accepts any
  // bearer: a revocation never makes the proxy renew the echo's token.
  { vendor: 'echo', endpoint: 'echo', path: '/api/echo/headers', acceptsAnyToken: true },
];

const ENDPOINTS = ['instabox', 'eshopbox', 'instellix', 'shopware', 'instacart', 'echo'];

/** Each vendor's 200 answer, by shape (sandbox/src/*.ts). */
const isArray = Array.isArray;
const SHAPES = {
  instabox: (b) => b.status === 'OK' && isArray(b.orders) && b.orders.length > 0,
  eshopbox: (b) => isArray(b.data) && typeof b.total === 'number',
  instellix: (b) => isArray(b.items) && b.items.length > 0,
  shopware: (b) => typeof b.data === 'object' && b.data !== null && b.data.type === 'product' && b.data.id === 'b7d2554b0ce847cd82f3ac9bd1c0dfad',
  instacart: (b) => isArray(b.stores) && b.stores.length > 0,
  echo: (b) => b.method === 'GET' && b.path === '/_echo/headers' && typeof b.headers === 'object' && b.headers !== null,
};

/** Each vendor's 401 body (a vendor's refusal the proxy passes on after its one renewal and retry). */
const VENDOR_401 = {
  instabox: (b) => b.status === 'ERROR',
  eshopbox: (b) => b.error === 'invalid_token',
  instellix: (b) => b.error === 'invalid_token',
  shopware: (b) => isArray(b.errors),
  instacart: (b) => typeof b.error === 'object' || isArray(b.errors),
  echo: () => false,
};

/**
 * The full soak's fault schedule: every fault kind, on several vendors, then revocations. `at` is the
 * fraction of the requests sent before the event fires. Faults only act on token endpoints, so each
 * answer fault is followed at once by a revocation of the same vendor: the next API call then needs a
 * new token and meets the fault. Revoking Eshopbox kills its long-lived app refresh token for good
 * (sandbox/src/control.ts), so its fault is armed before the load (`at: 0`, no revocation: the cold
 * start meets it) and its revocation comes last.
 */
export const FULL_SCHEDULE = [
  { at: 0, vendor: 'eshopbox', fault: '5xx', count: 3 },
  { at: 0.05, vendor: 'shopware', fault: '5xx', count: 1 },
  { at: 0.09, vendor: 'instabox', fault: '429', count: 1, retryAfter: 1 },
  { at: 0.13, vendor: 'instellix', fault: 'slow', delayMs: 1500 },
  { at: 0.17, vendor: 'instacart', fault: 'truncated', count: 1 },
  { at: 0.21, vendor: 'shopware', fault: 'revoke' },
  { at: 0.25, vendor: 'instellix', fault: '5xx', count: 3 },
  { at: 0.3, vendor: 'instacart', fault: '429', count: 1, retryAfter: 60 },
  { at: 0.34, vendor: 'instabox', fault: 'truncated', count: 2 },
  { at: 0.38, vendor: 'shopware', fault: 'html', count: 1 },
  { at: 0.42, vendor: 'instacart', fault: 'slow', delayMs: 1500 },
  { at: 0.46, vendor: 'instabox', fault: 'revoke' },
  { at: 0.5, vendor: 'shopware', fault: '429', count: 2, retryAfter: 1 },
  { at: 0.54, vendor: 'instellix', fault: 'truncated', count: 1 },
  { at: 0.58, vendor: 'instacart', fault: 'html', count: 1 },
  { at: 0.62, vendor: 'instacart', fault: 'revoke' },
  { at: 0.66, vendor: 'instellix', fault: 'revoke' },
  { at: 0.7, vendor: 'instabox', fault: 'html', count: 1 },
  { at: 0.74, vendor: 'shopware', fault: 'slow', delayMs: 1500 },
  { at: 0.78, vendor: 'instellix', fault: 'html', count: 1 },
  { at: 0.85, vendor: 'eshopbox', fault: 'revoke' },
];

/** The short version's schedule (inside `npm test`): each kind once, no 5 s instellix waits. */
export const SHORT_SCHEDULE = [
  { at: 0, vendor: 'eshopbox', fault: 'truncated', count: 1 },
  { at: 0.08, vendor: 'shopware', fault: '5xx', count: 1 },
  { at: 0.15, vendor: 'instabox', fault: '429', count: 1, retryAfter: 1 },
  { at: 0.22, vendor: 'instacart', fault: 'slow', delayMs: 800 },
  { at: 0.3, vendor: 'instacart', fault: 'truncated', count: 1 },
  { at: 0.38, vendor: 'shopware', fault: 'html', count: 1 },
  { at: 0.45, vendor: 'instabox', fault: 'revoke' },
  { at: 0.55, vendor: 'eshopbox', fault: 'revoke' },
];

const ANSWER_FAULTS = new Set(['5xx', '429', 'truncated', 'html']);

// ---------------------------------------------------------------------------------------------------
// Secrets to look for

/**
 * Every value that must never appear in an answer or a log line: each sandbox credential and each of
 * the Worker's development secrets (every literal containing `sandbox-secret` in
 * sandbox/credentials.json and sandbox/dev-secrets.mjs), the dev TOKENGATE_KEYS value and its key
 * material, their URL- and form-encoded forms, HTTP Basic forms of each client, and the words
 * `sandbox-secret` and `refresh_token`.
 * @returns {{ label: string, value: string }[]}
 */
export function secretNeedles(root = ROOT) {
  const credentialsText = readFileSync(join(root, 'sandbox/credentials.json'), 'utf8');
  const text = `${credentialsText}\n${readFileSync(join(root, 'sandbox/dev-secrets.mjs'), 'utf8')}`;
  const needles = new Map();
  const add = (label, value) => {
    if (typeof value === 'string' && value.length >= 6 && !needles.has(value)) needles.set(value, label);
  };
  add('the canary "sandbox-secret"', 'sandbox-secret');
  const keys = /TOKENGATE_KEYS:\s*'([^']+)'/.exec(text)?.[1];
  if (keys !== undefined) {
    add('dev TOKENGATE_KEYS', keys);
    for (const entry of keys.split(',')) add('dev TOKENGATE_KEYS key material', entry.slice(entry.indexOf(':') + 1));
  }
  const apiKey = /TOKENGATE_API_KEY:\s*'([^']+)'/.exec(text)?.[1];
  add('dev TOKENGATE_API_KEY', apiKey);
  for (const match of text.matchAll(/(['"`])([^'"`\n]*sandbox-secret[^'"`\n]*)\1/g)) {
    const value = match[2];
    add(`sandbox secret ${value.slice(0, 12)}…`, value);
    add(`URL-encoded sandbox secret ${value.slice(0, 12)}…`, encodeURIComponent(value));
    add(`form-encoded sandbox secret ${value.slice(0, 12)}…`, new URLSearchParams([['', value]]).toString().slice(1));
  }
  for (const client of Object.values(JSON.parse(credentialsText))) {
    if (client.clientId && client.clientSecret) add(`HTTP Basic credentials of ${client.clientId}`, Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64'));
  }
  add('the word "refresh_token"', 'refresh_token');
  return [...needles].map(([value, label]) => ({ label, value }));
}

/** The labels of the needles found in `text`. */
export function findNeedles(text, needles) {
  const found = [];
  for (const { label, value } of needles) if (text.includes(value)) found.push(label);
  return found;
}

/** Access-token lifetimes in seconds per sandbox vendor, from sandbox/src/credentials.ts. */
export function sandboxLifetimes(root = ROOT) {
  const text = readFileSync(join(root, 'sandbox/src/credentials.ts'), 'utf8');
  const block = /DEFAULT_LIFETIMES[^{]*\{([^}]*)\}/.exec(text)?.[1] ?? '';
  const lifetimes = {};
  for (const match of block.matchAll(/(\w+):\s*([\d_]+)/g)) lifetimes[match[1]] = Number(match[2].replaceAll('_', ''));
  // The echo's tokens come from Instabox's token code.
  lifetimes.echo ??= lifetimes.instabox;
  for (const endpoint of ENDPOINTS) lifetimes[endpoint] ??= 3600;
  return lifetimes;
}

// ---------------------------------------------------------------------------------------------------
// wrangler dev

export { freePort };

/**
 * A copy of what `wrangler dev` builds from (src, worker, web-demo, bench, the configs), with
 * node_modules linked, so edits made to the tree while a run is going on neither reload the Worker
 * mid-run. `.dev.vars` is left out: runs use the sandbox's demo secrets.
 */
export function snapshotTree(root = ROOT) {
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-snapshot-'));
  for (const entry of ['src', 'dev', 'worker', 'sandbox', 'web-demo', 'bench', 'wrangler.toml', 'tsconfig.json', 'package.json']) {
    const from = join(root, entry);
    if (existsSync(from)) cpSync(from, join(dir, entry), { recursive: true, filter: (path) => !path.includes(`${join(root, 'web-demo')}/node_modules`) });
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts `wrangler dev --local` in its own process group on 127.0.0.1:`port` with fresh local
 * persistence and its own log directory, and waits for GET /healthz. The whole output (stdout,
 * stderr and wrangler's log files) is kept for the leak scan.
 *
 * @param {{ node: string, env: NodeJS.ProcessEnv, cwd?: string, port?: number, config?: string,
 *   vars?: Record<string, string>, envFile?: string, persistTo?: string, readyTimeoutMs?: number,
 *   healthPath?: string }} options  `persistTo`: keep the local state there (the caller removes it)
 *   instead of in a fresh directory of its own.
 */
export async function startWrangler(options) {
  const cwd = options.cwd ?? ROOT;
  const port = options.port ?? (await freePort());
  const state = mkdtempSync(join(tmpdir(), 'tokengate-wrangler-'));
  const logDir = join(state, 'logs');
  mkdirSync(logDir);
  const args = [
    join(cwd, 'node_modules/wrangler/bin/wrangler.js'),
    'dev',
    '--local',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--show-interactive-dev-session=false',
    '--persist-to',
    options.persistTo ?? join(state, 'persist'),
    '--inspector-port',
    String(await freePort()),
    ...(options.config ? ['--config', options.config] : []),
    ...(options.envFile ? ['--env-file', options.envFile] : []),
    ...Object.entries(options.vars ?? {}).flatMap(([key, value]) => ['--var', `${key}:${value}`]),
  ];
  const child = spawn(options.node, args, {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...options.env, WRANGLER_LOG_PATH: logDir, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const chunks = [];
  let exited = null;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk) => chunks.push(chunk));
  child.stderr.on('data', (chunk) => chunks.push(chunk));
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const handle = {
    url,
    port,
    pid: child.pid,
    /** Everything wrangler printed, plus its log files. */
    log() {
      let text = chunks.join('');
      if (existsSync(logDir)) for (const file of readdirSync(logDir)) text += `\n${readFileSync(join(logDir, file), 'utf8')}`;
      return text;
    },
    /** How often wrangler rebuilt the Worker after it was ready. */
    reloads: () => (chunks.join('').match(/Reloading local server/g) ?? []).length,
    exited: () => exited,
    /** Ends wrangler's whole process group (wrangler, workerd, esbuild): SIGTERM, then SIGKILL. */
    async stop() {
      if (stopped) return;
      stopped = true;
      const group = -child.pid;
      try {
        process.kill(group, 'SIGTERM');
      } catch {
        /* already gone */
      }
      for (let i = 0; i < 30 && exited === null; i++) await sleep(100);
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await sleep(100);
    },
    /** Synchronous kill for process 'exit' handlers. */
    killNow() {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
    /** Removes the persistence and log directory (after the log was read). */
    cleanup: () => rmSync(state, { recursive: true, force: true }),
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (exited !== null) {
      const tail = chunks.join('').slice(-2000);
      handle.cleanup();
      throw new Error(`wrangler dev exited before it was ready (${JSON.stringify(exited)}):\n${tail}`);
    }
    try {
      const answer = await request(`${url}${options.healthPath ?? '/healthz'}`, { timeoutMs: 2000 });
      if (answer.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await handle.stop();
      const tail = chunks.join('').slice(-2000);
      handle.cleanup();
      throw new Error(`wrangler dev was not ready within ${options.readyTimeoutMs ?? 90_000} ms:\n${tail}`);
    }
    await sleep(250);
  }
  handle.readyAt = chunks.join('').length;
  return handle;
}

/**
 * `npm start`'s two Workers on free ports: the vendor sandbox (sandbox/wrangler.toml), then the product
 * Worker pointed at it with the sandbox's demo secrets (sandbox/dev-secrets.mjs). The handle is the
 * Worker's, with `sandboxUrl` beside `url`; `log`, `reloads`, `stop`, `cleanup` cover both.
 *
 * @param {{ node: string, env: NodeJS.ProcessEnv, cwd?: string, readyTimeoutMs?: number }} options
 */
export async function startStack(options) {
  const cwd = options.cwd ?? ROOT;
  const sandbox = await startWrangler({ ...options, config: 'sandbox/wrangler.toml' });
  const { devSecretsEnvFile } = await import(pathToFileURL(join(cwd, 'sandbox/dev-secrets.mjs')).href);
  const secrets = mkdtempSync(join(tmpdir(), 'tokengate-secrets-'));
  const envFile = join(secrets, 'worker.env');
  writeFileSync(envFile, devSecretsEnvFile(), { mode: 0o600 });
  let worker;
  try {
    // npm start's origins (wrangler.toml's top level has none): the load sends that Origin (ORIGIN above).
    worker = await startWrangler({ ...options, envFile, vars: { PUBLIC_ORIGIN: ORIGIN, ALLOWED_ORIGINS: ORIGIN, SANDBOX_ORIGIN: sandbox.url } });
  } catch (error) {
    await sandbox.stop();
    sandbox.cleanup();
    rmSync(secrets, { recursive: true, force: true });
    throw error;
  }
    return {
    ...worker,
    sandboxUrl: sandbox.url,
    log: () => `${worker.log()}\n${sandbox.log()}`,
    reloads: () => worker.reloads() + sandbox.reloads(),
    exited: () => worker.exited() ?? sandbox.exited(),
    async stop() {
      await Promise.all([worker.stop(), sandbox.stop()]);
    },
    killNow() {
      worker.killNow();
      sandbox.killNow();
    },
    cleanup() {
      worker.cleanup();
      sandbox.cleanup();
      rmSync(secrets, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// HTTP

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One HTTP/1.1 request on `agent` with a hard timeout; resolves `{ status, headers, body, ms }` or
 * rejects (connection error, timeout). 127.0.0.1 only.
 */
export function request(url, { method = 'GET', headers = {}, body, agent, timeoutMs = 30_000 } = {}) {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') return Promise.reject(new Error(`refusing to send to ${target.hostname}: 127.0.0.1 only`));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      { host: '127.0.0.1', port: target.port, path: target.pathname + target.search, method, headers, agent: agent ?? false },
      (res) => {
        const parts = [];
        res.setEncoding('utf8');
        res.on('data', (part) => parts.push(part));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parts.join(''), ms: performance.now() - started }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const jsonOf = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

async function stats(sandbox) {
  const answer = await request(`${sandbox}/_stats`, { timeoutMs: 10_000 });
  if (answer.status !== 200) throw new Error(`the sandbox's /_stats answered ${answer.status}`);
  return JSON.parse(answer.body);
}

async function echoCount(sandbox) {
  const answer = await request(`${sandbox}/_echo/count`, { timeoutMs: 10_000 });
  return answer.status === 200 ? (jsonOf(answer.body)?.calls ?? null) : null;
}

async function setFault(sandbox, body) {
  const answer = await request(`${sandbox}/_faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    timeoutMs: 10_000,
  });
  if (answer.status !== 204) throw new Error(`POST /_faults ${JSON.stringify(body)} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
}

// ---------------------------------------------------------------------------------------------------
// Classification

/** Worker error codes that an allow-listed GET may get while the sandbox misbehaves, and their rules. */
const DOCUMENTED = {
  rate_limited: (a) => a.status === 429 && /^\d+$/.test(String(a.headers['retry-after'] ?? '')) || 'rate_limited needs 429 and a Retry-After in seconds',
  token_unavailable: (a, body) =>
    ((a.status === 503 || (a.status === 429 && /^\d+$/.test(String(a.headers['retry-after'] ?? '')))) && typeof body.reason === 'string' && body.reason !== '') ||
    'token_unavailable needs 503 (or 429 with Retry-After) and a reason',
  // A renewed token refused again at once (a revocation racing the renewal): 502, never a token request more (row 23).
  fresh_token_refused: (a) => a.status === 502 || 'fresh_token_refused needs 502',
  link_required: (a, _body, route, ctx) =>
    (a.status === 401 && route.vendor === 'eshopbox' && ctx.eshopboxRevokedAt !== undefined) || 'link_required only after the Eshopbox refresh token was revoked',
};

/**
 * One answer: `data` (a 200 in the vendor's shape), `error` (a documented Worker error, or the vendor's
 * own 401 passed on), or `wrong` with the reason.
 */
export function classify(route, answer, id, ctx) {
  if (answer.headers['set-cookie'] !== undefined) return { kind: 'wrong', code: 'set-cookie', reason: 'an upstream Set-Cookie came back (docs/security.md row 11)' };
  const type = String(answer.headers['content-type'] ?? '');
  const body = jsonOf(answer.body);
  if (!type.startsWith('application/json') || typeof body !== 'object' || body === null) {
    return { kind: 'wrong', code: `${answer.status} non-JSON`, reason: `HTTP ${answer.status} ${type || 'no content type'}: ${answer.body.slice(0, 80)}` };
  }
  if (answer.status === 200) {
    if (!SHAPES[route.vendor](body)) return { kind: 'wrong', code: '200 bad shape', reason: `a 200 that is not ${route.vendor} data: ${answer.body.slice(0, 80)}` };
    if (route.vendor === 'echo') {
      const echoed = body.headers['x-request-id'];
      if (echoed !== id) return { kind: 'wrong', code: 'echo cross-wired', reason: `sent X-Request-Id ${id}, the echo saw ${echoed}` };
      if (!/^Bearer\b/.test(String(body.headers.authorization ?? ''))) return { kind: 'wrong', code: 'echo no bearer', reason: 'the upstream got no bearer token' };
      for (const name of ['cookie', 'x-tokengate-csrf', 'proxy-authorization']) {
        if (body.headers[name] !== undefined) return { kind: 'wrong', code: `echo saw ${name}`, reason: `the caller's ${name} went upstream` };
      }
    }
    return { kind: 'data', code: '200 data' };
  }
  if (typeof body.error === 'string' && typeof body.message === 'string' && Object.hasOwn(DOCUMENTED, body.error)) {
    const verdict = DOCUMENTED[body.error](answer, body, route, ctx);
    const code = `${answer.status} ${body.error}${body.reason ? ` (${body.reason})` : ''}`;
    return verdict === true ? { kind: 'error', code } : { kind: 'wrong', code, reason: verdict };
  }
  if (answer.status === 401 && VENDOR_401[route.vendor](body) && answer.headers['www-authenticate'] !== undefined) {
    return { kind: 'error', code: `401 ${route.vendor}'s own refusal, passed on after one renewal` };
  }
  return { kind: 'wrong', code: `${answer.status} ${typeof body.error === 'string' ? body.error : 'unknown'}`, reason: answer.body.slice(0, 120) };
}

// ---------------------------------------------------------------------------------------------------
// The run

const percentile = (sorted, p) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);

/** `count` calls of `send(i)`, `width` at a time. */
async function inBatches(count, width, send) {
  for (let start = 0; start < count; start += width) {
    await Promise.all(Array.from({ length: Math.min(width, count - start) }, (_, k) => send(start + k)));
  }
}

/** A rate limit of wrangler.toml's top level (the configuration the soak runs). */
function rateLimit(root, name) {
  const text = readFileSync(join(root, 'wrangler.toml'), 'utf8');
  const limit = new RegExp(`name = "${name}"[^\\[]*?limit = (\\d+)`).exec(text)?.[1];
  if (limit === undefined) throw new Error(`wrangler.toml has no rate limit ${name}`);
  return Number(limit);
}

/** The credential's renewal window (worker/coordinator.ts RENEWAL_WINDOW): one renewal per window at most. */
const RENEWAL_WINDOW_MS = 10_000;

/**
 * How many of the Rate Limiting binding's windows (fixed, aligned to the clock, 60 s) a flood that ran
 * from `from` to `to` touched: a caller's budget is whole again in each.
 */
const rateWindows = (from, to, period = 60_000) => Math.floor(to / period) - Math.floor(from / period) + 1;

/**
 * The attack phase, after the load: what a hostile caller can make the vendors do through the Worker.
 * No budget is shared by callers (docs/security.md row 32), so each flood of one kind comes from one
 * address, which is what a production caller has (Cloudflare sets CF-Connecting-IP); the floods that
 * rotate addresses show that no address spends another's budget:
 * - 300 × `GET /link/instacart/start` from one address (each accepted one costs Instacart calls);
 * - 150 × `POST /token/oauth2` with bogus codes from one address (each accepted one is a token request);
 * - 100 sequential calls to an upstream that always answers 401 (a fresh token refused every time);
 * - finding 1: 55 pairs of a route that answers 200 and one that refuses the same token (401), from
 *   rotating addresses: at most one token request per renewal window;
 * - finding 2: 130 cookieless callbacks from 130 addresses, and 11 addresses spending their whole
 *   `/api` budget, then a caller never seen before links and calls the API; a vendor's 429 with
 *   Retry-After, then 20 callers of that vendor, none of whom may reach it;
 * - finding 4: 300 wrong operator keys on a key route from one address: 429 before the key is compared.
 * Bounded: about 3,000 requests, each with a 10 s timeout.
 */
export async function runAttack({ base, sandbox, root = ROOT }) {
  const flowLimit = rateLimit(root, 'RL_FLOW_CALLER');
  const apiLimit = rateLimit(root, 'RL_CALLER');
  const caller = (i) => `198.19.${(i >> 8) & 255}.${i & 255}`;
  const tally = () => ({ sent: 0, accepted: 0, limited: 0, other: 0 });
  const count = (figures, answer, accepted) => {
    figures.sent++;
    if (answer.status === 429 && /^\d+$/.test(String(answer.headers['retry-after'] ?? ''))) figures.limited++;
    else if (accepted(answer)) figures.accepted++;
    else figures.other++;
  };
  const browserHeaders = (ip) => ({ origin: ORIGIN, 'x-tokengate-csrf': '1', 'cf-connecting-ip': ip });
  const before = await stats(sandbox);

  const starts = tally();
  const startsFrom = Date.now();
  await inBatches(300, 25, async () => {
    const answer = await request(`${base}/link/instacart/start`, { headers: { 'cf-connecting-ip': caller(1), 'sec-fetch-site': 'same-origin' }, timeoutMs: 10_000 });
    count(starts, answer, (a) => a.status === 303 && !String(a.headers.location ?? '').includes('link_error'));
  });
  starts.windows = rateWindows(startsFrom, Date.now());
  const afterStarts = await stats(sandbox);

  const tokens = tally();
  const tokensFrom = Date.now();
  await inBatches(150, 25, async (i) => {
    const body = new URLSearchParams({ grant_type: 'authorization_code', code: `bogus-code-${i}`, code_verifier: 'v'.repeat(43), redirect_uri: `${ORIGIN}/callback` }).toString();
    const answer = await request(`${base}/token/oauth2`, {
      method: 'POST',
      headers: { ...browserHeaders(caller(2)), 'content-type': 'application/x-www-form-urlencoded' },
      body,
      timeoutMs: 10_000,
    });
    count(tokens, answer, (a) => a.status === 400);
  });
  tokens.windows = rateWindows(tokensFrom, Date.now());
  const afterTokens = await stats(sandbox);

  const refused = tally();
  for (let i = 0; i < 100; i++) {
    const answer = await request(`${base}/api/echo/unauthorized`, { headers: browserHeaders(caller(2000 + i)), timeoutMs: 10_000 });
    count(refused, answer, (a) => a.status === 502 && a.body.includes('fresh_token_refused'));
  }
  const afterRefused = await stats(sandbox);

  // Finding 1: a route that answers 200 and one that refuses the same valid token, alternated.
  const alternating = tally();
  const alternatingStarted = Date.now();
  for (let pair = 0; pair < 55; pair++) {
    const ok = await request(`${base}/api/echo/headers`, { headers: browserHeaders(caller(2200 + 2 * pair)), timeoutMs: 10_000 });
    count(alternating, ok, (a) => a.status === 200);
    const no = await request(`${base}/api/echo/unauthorized`, { headers: browserHeaders(caller(2201 + 2 * pair)), timeoutMs: 10_000 });
    count(alternating, no, (a) => a.status === 502 && a.body.includes('fresh_token_refused'));
  }
  const alternatingWindows = Math.floor((Date.now() - alternatingStarted) / RENEWAL_WINDOW_MS) + 1;
  const afterAlternating = await stats(sandbox);

  // Finding 2: refused work spends no budget; no caller's flood shuts another out; the vendor's 429 holds for everyone.
  const callbacks = tally();
  await inBatches(130, 25, async (i) => {
    const answer = await request(`${base}/link/instacart/callback?code=forged&state=forged`, { headers: { 'cf-connecting-ip': caller(2400 + i) }, timeoutMs: 10_000 });
    count(callbacks, answer, (a) => a.status === 400);
  });
  const spenders = tally();
  for (let address = 0; address < 11; address++) {
    await inBatches(110, 25, async () => {
      const answer = await request(`${base}/api/instabox/v2/orders`, { headers: browserHeaders(caller(2600 + address)), timeoutMs: 10_000 });
      count(spenders, answer, (a) => a.status === 200);
    });
  }
  const newcomer = { refused: 0 };
  const newStart = await request(`${base}/link/instacart/start`, { headers: { 'cf-connecting-ip': caller(2700), 'sec-fetch-site': 'same-origin' }, timeoutMs: 10_000 });
  if (newStart.status !== 303 || String(newStart.headers.location ?? '').includes('link_error')) newcomer.refused++;
  const newApi = await request(`${base}/api/instabox/v2/orders`, { headers: browserHeaders(caller(2701)), timeoutMs: 10_000 });
  if (newApi.status !== 200) newcomer.refused++;
  const echoBeforeWait = await echoCount(sandbox);
  const vendorWait = tally();
  const first = await request(`${base}/api/echo/ratelimited?retry_after=5`, { headers: browserHeaders(caller(2800)), timeoutMs: 10_000 });
  for (let i = 0; i < 20; i++) {
    const answer = await request(`${base}/api/echo/headers`, { headers: browserHeaders(caller(2801 + i)), timeoutMs: 10_000 });
    count(vendorWait, answer, () => false);
  }
  // The first call is the one the vendor answered 429; any other that reached it went past its Retry-After.
  const reachedDuringWait = Math.max(0, ((await echoCount(sandbox)) ?? 0) - (echoBeforeWait ?? 0) - (first.status === 429 ? 1 : 0));

  // Finding 4: wrong operator keys meet the caller's budget before they are compared.
  const wrongKeys = tally();
  const wrongKeysFrom = Date.now();
  await inBatches(300, 25, async (i) => {
    const answer = await request(`${base}/api/instabox/v2/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tokengate-key': `wrong-operator-key-${i}`, 'cf-connecting-ip': caller(2900) },
      body: '{}',
      timeoutMs: 10_000,
    });
    count(wrongKeys, answer, (a) => a.status === 401);
  });
  wrongKeys.windows = rateWindows(wrongKeysFrom, Date.now());

  const after = await stats(sandbox);
  const delta = (from, to, table, key) => (to[table][key] ?? 0) - (from[table][key] ?? 0);
  return {
    flowLimit,
    apiLimit,
    starts: { ...starts, vendorCalls: delta(before, afterStarts, 'apiCalls', 'instacart') },
    tokens: { ...tokens, vendorCalls: delta(afterStarts, afterTokens, 'tokenRequests', 'oauth2') },
    refused: { ...refused, tokenRequests: delta(afterTokens, afterRefused, 'tokenRequests', 'echo') },
    alternating: { ...alternating, tokenRequests: delta(afterRefused, afterAlternating, 'tokenRequests', 'echo'), windows: alternatingWindows },
    callbacks: { ...callbacks, tokenRequests: delta(afterAlternating, after, 'tokenRequests', 'instacart') },
    spenders: { ...spenders, newcomerRefused: newcomer.refused },
    vendorWait: { ...vendorWait, firstStatus: first.status, reachedDuringWait },
    wrongKeys,
  };
}

/**
 * Drives `requests` proxied GETs at `concurrency` against a running Worker at `base`, with the fault
 * schedule armed at the vendor sandbox at `sandbox`, and answers every figure of the report. Bounded: each request by `requestTimeoutMs`, the
 * whole load by `deadlineMs` (then it stops sending, and what is still open counts as lost).
 *
 * @param {{ base: string, sandbox: string, requests?: number, concurrency?: number, schedule?: typeof FULL_SCHEDULE,
 *   requestTimeoutMs?: number, deadlineMs?: number, ips?: number, root?: string,
 *   onProgress?: (line: string) => void }} options
 */
export async function runSoak(options) {
  const base = options.base;
  const sandbox = options.sandbox;
  const total = options.requests ?? 20_000;
  const concurrency = options.concurrency ?? 100;
  const schedule = [...(options.schedule ?? FULL_SCHEDULE)].sort((a, b) => a.at - b.at);
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const deadline = Date.now() + (options.deadlineMs ?? 8 * 60_000);
  const ipCount = options.ips ?? 1000;
  const progress = options.onProgress ?? (() => {});
  const needles = secretNeedles(options.root ?? ROOT);
  const lifetimes = sandboxLifetimes(options.root ?? ROOT);

  await request(`${sandbox}/_reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 10_000 });
  const echoBefore = await echoCount(sandbox);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });

  const perVendor = Object.fromEntries(ROUTES.map((route) => [route.vendor, { requests: 0, data: 0, errors: 0, wrong: 0, lost: 0, sent: [], lastAnsweredSentAt: 0 }]));
  const codes = new Map();
  const wrongSamples = [];
  const lostSamples = [];
  const leaks = new Map();
  const echoIds = new Map();
  const latencies = [];
  const ctx = { eshopboxRevokedAt: undefined };
  let answered = 0;
  let lost = 0;
  let sent = 0;
  let stoppedAtDeadline = false;

  // The fault schedule: an event fires once its share of the requests was sent, after the previous
  // event on the same token endpoint has settled (its faults met and its new tokens issued, seen in
  // the sandbox's /_stats), so no armed fault is ever replaced before it was met.
  const events = schedule.map((event) => ({ ...event, endpoint: event.vendor, state: 'pending' }));
  const chains = new Map();
  let loadDone = false;
  /** The routes whose upstream checks the token, so that a revocation makes them need a new one. */
  const checkedRoutes = (endpoint) => ROUTES.filter((route) => route.endpoint === endpoint && !route.acceptsAnyToken);
  const runEvent = async (event) => {
    // Armed before the load, right after the reset: nothing was counted yet.
    const before = event.armedBefore ? 0 : (await stats(sandbox)).tokenRequests[event.endpoint];
    if (event.fault !== 'revoke' && !event.armedBefore) {
      const body = { vendor: event.vendor, fault: event.fault, count: event.count ?? 1 };
      if (event.retryAfter !== undefined) body.retryAfter = event.retryAfter;
      if (event.delayMs !== undefined) body.delayMs = event.delayMs;
      await setFault(sandbox, body);
    }
    // Before the load there is no token yet: the cold start meets the fault without a revocation.
    if (!event.armedBefore) {
      // Taken before the call: an answer may already feel the revocation before its 204 arrives.
      event.revokedAt = Date.now();
      if (event.vendor === 'eshopbox') ctx.eshopboxRevokedAt = event.revokedAt;
      await setFault(sandbox, { vendor: event.vendor, fault: 'revoke' });
    }
    event.firedAt = Date.now();
    event.firedAtRequest = sent;
    event.state = 'fired';
    // Settled: every armed answer fault met, then one new token per credential (one refused refresh
    // after the Eshopbox revocation). Polled until then, for at most 40 s.
    const faults = ANSWER_FAULTS.has(event.fault) ? (event.count ?? 1) : 0;
    const routes = event.armedBefore ? ROUTES.filter((route) => route.endpoint === event.endpoint) : checkedRoutes(event.endpoint);
    const needed = event.vendor === 'eshopbox' && event.fault === 'revoke' ? 1 : faults + routes.length;
    // …and then an answer, on each affected route, to a request sent after that count was reached: a
    // request counted on arrival may still be answering (a 'slow' one issues its token late, and a
    // revocation fired before then would not touch that token).
    let countedAt;
    const check = async () => {
      if (countedAt === undefined && (await stats(sandbox)).tokenRequests[event.endpoint] - before >= needed) countedAt = Date.now();
      if (countedAt !== undefined && routes.every((route) => perVendor[route.vendor].lastAnsweredSentAt > countedAt)) {
        event.state = 'settled';
        event.settledMs = Date.now() - event.firedAt;
      }
    };
    const until = Date.now() + 40_000;
    while (Date.now() < until && !loadDone && event.state !== 'settled') {
      await check();
      if (event.state !== 'settled') await sleep(100);
    }
    if (event.state !== 'settled') await check();
  };
  const fired = [];
  let nextEvent = 0;
  const fireDue = () => {
    while (nextEvent < events.length && sent >= events[nextEvent].at * total) {
      const event = events[nextEvent++];
      const previous = chains.get(event.endpoint) ?? Promise.resolve();
      const run = previous.then(() => (loadDone ? undefined : runEvent(event))).catch((error) => {
        event.state = 'failed';
        event.error = error instanceof Error ? error.message : String(error);
      });
      chains.set(event.endpoint, run);
      fired.push(run);
    }
  };

  // Events at 0 are armed before the first request, so the cold start meets them.
  while (nextEvent < events.length && events[nextEvent].at <= 0) {
    const event = events[nextEvent++];
    await setFault(sandbox, { vendor: event.vendor, fault: event.fault, count: event.count ?? 1, ...(event.retryAfter === undefined ? {} : { retryAfter: event.retryAfter }), ...(event.delayMs === undefined ? {} : { delayMs: event.delayMs }) });
    event.armedBefore = true;
    const run = runEvent(event).catch((error) => {
      event.state = 'failed';
      event.error = error instanceof Error ? error.message : String(error);
    });
    chains.set(event.endpoint, run);
    fired.push(run);
  }

  const ips = Array.from({ length: ipCount }, (_, i) => `198.18.${(i >> 8) & 255}.${i & 255}`);
  const started = performance.now();
  const startedAt = Date.now();
  let lastReport = startedAt;

  async function one(i) {
    const route = ROUTES[i % ROUTES.length];
    const id = `soak-${i.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const tally = perVendor[route.vendor];
    tally.requests++;
    const sentAt = Date.now();
    tally.sent.push(sentAt);
    let answer;
    try {
      answer = await request(`${base}${route.path}`, {
        agent,
        timeoutMs: Math.max(1000, Math.min(requestTimeoutMs, deadline - Date.now() + requestTimeoutMs)),
        headers: { origin: ORIGIN, 'x-tokengate-csrf': '1', 'x-request-id': id, 'cf-connecting-ip': ips[(i * 7919) % ips.length], accept: 'application/json' },
      });
    } catch (error) {
      lost++;
      tally.lost++;
      if (lostSamples.length < 5) lostSamples.push(`${route.vendor}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    answered++;
    tally.lastAnsweredSentAt = Math.max(tally.lastAnsweredSentAt, sentAt);
    latencies.push(answer.ms);
    const found = findNeedles(`${JSON.stringify(answer.headers)}\n${answer.body}`, needles);
    for (const label of found) leaks.set(`answer: ${label}`, (leaks.get(`answer: ${label}`) ?? 0) + 1);
    const verdict = classify(route, answer, id, ctx);
    if (route.vendor === 'echo' && verdict.kind === 'data') echoIds.set(id, (echoIds.get(id) ?? 0) + 1);
    const key = `${route.vendor}\t${verdict.kind}\t${verdict.code}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
    if (verdict.kind === 'data') tally.data++;
    else if (verdict.kind === 'error') tally.errors++;
    else {
      tally.wrong++;
      if (wrongSamples.length < 10) wrongSamples.push(`${route.vendor}: ${verdict.code}: ${verdict.reason}`);
    }
  }

  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        if (Date.now() > deadline) {
          stoppedAtDeadline = true;
          return;
        }
        const i = sent++;
        fireDue();
        await one(i);
        if (Date.now() - lastReport > 5000) {
          lastReport = Date.now();
          progress(`  ${answered.toLocaleString('en')} answered, ${lost} lost, ${events.filter((e) => e.state !== 'pending').length}/${events.length} fault events fired`);
        }
      }
    }),
  );
  const loadSeconds = (performance.now() - started) / 1000;
  const endedAt = Date.now();
  loadDone = true;
  await Promise.all(fired);
  agent.destroy();

  const final = await stats(sandbox);
  const echoAfter = await echoCount(sandbox);
  const attack = options.attack === false ? undefined : await runAttack({ base, sandbox, root: options.root ?? ROOT });

  // Token requests: the strict minimum per token endpoint.
  // - Each credential needs 1 token per epoch in which it was called, where epochs are cut by the
  //   revocations of its vendor, plus 1 more per full access-token lifetime that the epoch's calls span
  //   (1 + floor(span / lifetime)): a token cannot serve longer than its lifetime.
  // - After the Eshopbox revocation its long-lived refresh token is dead: 1 request learns that
  //   (invalid_grant), and a terminal invalid_grant needs no further request.
  // - Every armed answer fault (5xx, 429, truncated, html) is met by one token request that yields no
  //   token; 'slow' answers late but issues the token, so it adds none.
  const revocations = new Map(ENDPOINTS.map((endpoint) => [endpoint, []]));
  for (const event of events) if (event.revokedAt !== undefined) revocations.get(event.endpoint).push(event.revokedAt);
  const minimum = {};
  const faultRequests = {};
  for (const endpoint of ENDPOINTS) {
    const cuts = revocations.get(endpoint).sort((a, b) => a - b);
    let needed = 0;
    for (const route of ROUTES.filter((r) => r.endpoint === endpoint)) {
      const times = perVendor[route.vendor].sent;
      const bounds = route.acceptsAnyToken ? [startedAt, Infinity] : [startedAt, ...cuts, Infinity];
      for (let e = 0; e + 1 < bounds.length; e++) {
        const inEpoch = times.filter((t) => t >= bounds[e] && t < bounds[e + 1]);
        if (inEpoch.length === 0) continue;
        if (endpoint === 'eshopbox' && ctx.eshopboxRevokedAt !== undefined && bounds[e] >= ctx.eshopboxRevokedAt) {
          needed += bounds[e] === ctx.eshopboxRevokedAt ? 1 : 0;
          continue;
        }
        needed += 1 + Math.floor((inEpoch[inEpoch.length - 1] - inEpoch[0]) / (lifetimes[endpoint] * 1000));
      }
    }
    faultRequests[endpoint] = events
      .filter((event) => event.endpoint === endpoint && event.firedAt !== undefined && ANSWER_FAULTS.has(event.fault))
      .reduce((sum, event) => sum + (event.count ?? 1), 0);
    minimum[endpoint] = needed + faultRequests[endpoint];
  }

  const duplicateIds = [...echoIds.values()].filter((n) => n > 1).length;
  const echoData = echoIds.size;
  const echoLost = perVendor.echo.lost;
  const echoUpstream = echoBefore === null || echoAfter === null ? null : echoAfter - echoBefore;
  const extraUpstream = echoUpstream === null ? null : Math.max(0, echoUpstream - echoData - echoLost);
  const sorted = [...latencies].sort((a, b) => a - b);
  const byKind = { data: 0, error: 0, wrong: 0 };
  for (const [key, n] of codes) byKind[key.split('\t')[1]] += n;

  return {
    attack,
    requests: total,
    sent,
    concurrency,
    callers: ipCount,
    answered,
    lost,
    stoppedAtDeadline,
    loadSeconds,
    startedAt,
    endedAt,
    throughput: answered / loadSeconds,
    latency: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 },
    data: byKind.data,
    documentedErrors: byKind.error,
    wrong: byKind.wrong,
    codes: [...codes].map(([key, count]) => {
      const [vendor, kind, code] = key.split('\t');
      return { vendor, kind, code, count };
    }),
    wrongSamples,
    lostSamples,
    perVendor: Object.fromEntries(Object.entries(perVendor).map(([vendor, s]) => [vendor, { requests: s.requests, data: s.data, errors: s.errors, wrong: s.wrong, lost: s.lost }])),
    duplicated: duplicateIds + (extraUpstream ?? 0),
    duplicateIds,
    echo: { answers: echoData, upstreamCalls: echoUpstream, extraUpstream },
    // The sandbox lists the echo's counter once it counted something.
    tokenRequests: Object.fromEntries(ENDPOINTS.map((endpoint) => [endpoint, final.tokenRequests[endpoint] ?? 0])),
    minimumTokenRequests: minimum,
    faultTokenRequests: faultRequests,
    // The echo counts its upstream calls apart (`/_echo/count`).
    apiCalls: Object.fromEntries(ENDPOINTS.map((endpoint) => [endpoint, endpoint === 'echo' ? echoUpstream : final.apiCalls[endpoint]])),
    refusedPolls: final.refusedPolls,
    answerLeaks: [...leaks].reduce((sum, [, n]) => sum + n, 0),
    leakLabels: [...leaks.keys()],
    events: events.map(({ at, vendor, fault, count, retryAfter, delayMs, state, settledMs, firedAtRequest, error, armedBefore }) => ({
      armedBefore: armedBefore === true,
      at,
      vendor,
      fault,
      count,
      retryAfter,
      delayMs,
      state,
      settledMs,
      firedAtRequest,
      error,
    })),
    lifetimes,
    needles,
  };
}

/** Scans a log for the needles: every hit, by label, with how many lines carry it. */
export function scanLog(log, needles) {
  const hits = new Map();
  let lines = 0;
  for (const line of log.split('\n')) {
    if (line.trim() === '') continue;
    lines++;
    for (const label of findNeedles(line, needles)) hits.set(label, (hits.get(label) ?? 0) + 1);
  }
  return { lines, leaks: [...hits.values()].reduce((a, b) => a + b, 0), labels: [...hits.keys()], unhandled: (log.match(/"at":"unhandled"/g) ?? []).length };
}

/** The figures that must be 0, each with its value; the run fails when any is not. */
export function mustBeZero(result, logScan, reloads) {
  return {
    'WRONG answers': result.wrong,
    'lost requests': result.lost,
    'requests not sent (deadline)': result.requests - result.sent,
    'duplicated requests': result.duplicated,
    'refused instellix polls': result.refusedPolls,
    'secrets or refresh tokens in answers': result.answerLeaks,
    'secrets or refresh tokens in log lines': logScan.leaks,
    'Worker reloads during the run': reloads,
    'fault events that did not settle': result.events.filter((event) => event.state !== 'settled').length,
    ...(result.attack === undefined ? {} : attackOverLimits(result.attack)),
  };
}

/** The attack phase's must-be-0 figures: what reached the vendors beyond the limits, and stray answers. */
function attackOverLimits(attack) {
  return {
    'attack: accepted /link starts from one address beyond its limit': Math.max(0, attack.starts.accepted - attack.flowLimit * attack.starts.windows),
    'attack: /token vendor requests from one address beyond its limit': Math.max(0, attack.tokens.vendorCalls - attack.flowLimit * attack.tokens.windows),
    'attack: token requests for an always-401 upstream beyond 3': Math.max(0, attack.refused.tokenRequests - 3),
    'attack: answers neither accepted nor 429 with Retry-After': attack.starts.other + attack.tokens.other + attack.refused.other,
    'finding 1: token requests of the 200/401 alternation beyond one per renewal window': Math.max(0, attack.alternating.tokenRequests - attack.alternating.windows),
    'finding 1: alternation answers neither 200 nor 502 fresh_token_refused': attack.alternating.other + attack.alternating.limited,
    'finding 2: cookieless callbacks answered other than 400 (a budget spent, or a token request)': attack.callbacks.other + attack.callbacks.limited + attack.callbacks.tokenRequests,
    'finding 2: calls of a caller never seen before refused after the floods': attack.spenders.newcomerRefused,
    "finding 2: calls that reached the vendor during its own Retry-After": attack.vendorWait.reachedDuringWait + (attack.vendorWait.firstStatus === 429 ? 0 : 1),
    "finding 2: callers not told to wait during the vendor's Retry-After": attack.vendorWait.sent - attack.vendorWait.limited,
    'finding 4: wrong keys compared beyond the per-caller limit': Math.max(0, attack.wrongKeys.accepted - attack.apiLimit * attack.wrongKeys.windows) + attack.wrongKeys.other,
    'finding 4: a wrong-key flood that never met 429': attack.wrongKeys.limited > 0 ? 0 : 1,
  };
}

const n = (value) => (typeof value === 'number' ? value.toLocaleString('en') : String(value));

/** The report as Markdown. */
export function formatReport(result, logScan, reloads, title = 'tokengate soak') {
  const zero = mustBeZero(result, logScan, reloads);
  const mark = (ok) => (ok ? '✅' : '❌');
  const lines = [
    `# ${title}`,
    '',
    `${n(result.requests)} proxied GETs through \`wrangler dev\` at concurrency ${result.concurrency} from ${n(result.callers)} caller IPs, ` +
      `${result.loadSeconds.toFixed(1)} s (${result.throughput.toFixed(0)} answers/s; latency p50 ${result.latency.p50.toFixed(1)} ms, p99 ${result.latency.p99.toFixed(1)} ms, max ${result.latency.max.toFixed(0)} ms).`,
    '',
    '| figure | value | goal |',
    '| --- | --- | --- |',
    `| requests answered | ${n(result.answered)} of ${n(result.requests)} | all ${mark(result.answered === result.requests)} |`,
    `| correct vendor data (200 in the vendor's shape) | ${n(result.data)} | |`,
    `| documented errors | ${n(result.documentedErrors)} | |`,
    `| WRONG (500, non-JSON, neither shape, Set-Cookie, cross-wired echo) | ${n(result.wrong)} | 0 ${mark(result.wrong === 0)} |`,
    `| lost (no answer within the timeout) | ${n(result.lost)} | 0 ${mark(result.lost === 0)} |`,
    `| duplicated (an id answered twice, or echo upstream calls beyond its answers) | ${n(result.duplicated)} (echo: ${n(result.echo.answers)} answers, ${n(result.echo.upstreamCalls)} upstream calls) | 0 ${mark(result.duplicated === 0)} |`,
    `| refused instellix polls | ${n(result.refusedPolls)} | 0 ${mark(result.refusedPolls === 0)} |`,
    `| secrets or refresh tokens in answers (bodies and headers) | ${n(result.answerLeaks)}${result.leakLabels.length ? ` (${result.leakLabels.join('; ')})` : ''} | 0 ${mark(result.answerLeaks === 0)} |`,
    `| secrets or refresh tokens in wrangler's ${n(logScan.lines)} log lines | ${n(logScan.leaks)}${logScan.labels.length ? ` (${logScan.labels.join('; ')})` : ''} | 0 ${mark(logScan.leaks === 0)} |`,
    `| Worker reloads during the run | ${n(reloads)} | 0 ${mark(reloads === 0)} |`,
    `| fault events settled (faults met, new tokens issued) | ${result.events.filter((e) => e.state === 'settled').length} of ${result.events.length} | all ${mark(zero['fault events that did not settle'] === 0)} |`,
    '',
    '## Token requests per sandbox token endpoint',
    '',
    'Minimum = per credential, 1 token per epoch between revocations of its vendor (+1 per full lifetime an epoch spans), ' +
      '+ 1 per armed answer fault (5xx, 429, truncated, html: each is met by a request that yields no token); after the Eshopbox ' +
      'revocation its refresh token is dead, and 1 request (invalid_grant) is all a terminal error needs. The echo has a token endpoint of its own and an upstream that accepts any bearer, so revocations never renew it.',
    '',
    '| token endpoint | token requests | minimum | of which fault answers | excess | API calls upstream |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const endpoint of ENDPOINTS) {
    const made = result.tokenRequests[endpoint];
    const min = result.minimumTokenRequests[endpoint];
    lines.push(`| ${endpoint} | ${n(made)} | ${n(min)} | ${n(result.faultTokenRequests[endpoint])} | ${n(made - min)} | ${n(result.apiCalls[endpoint])} |`);
  }
  if (result.attack !== undefined) {
    const a = result.attack;
    const over = attackOverLimits(a);
    lines.push(
      '',
      '## Attack phase',
      '',
      `After the load. No budget is shared by callers, so the floods of one kind come from one address (RL_FLOW_CALLER = ${n(a.flowLimit)}, RL_CALLER = ${n(a.apiLimit)} a minute per caller and vendor); the others rotate addresses.`,
      '',
      '| flood | sent | accepted | 429 with Retry-After | other | reached the vendor | goal |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      `| \`GET /link/instacart/start\`, one address | ${n(a.starts.sent)} | ${n(a.starts.accepted)} | ${n(a.starts.limited)} | ${n(a.starts.other)} | ${n(a.starts.vendorCalls)} Instacart calls | accepted ≤ ${n(a.flowLimit)} ${mark(over['attack: accepted /link starts from one address beyond its limit'] === 0)} |`,
      `| \`POST /token/oauth2\`, bogus codes, one address | ${n(a.tokens.sent)} | ${n(a.tokens.accepted)} (400 from the vendor) | ${n(a.tokens.limited)} | ${n(a.tokens.other)} | ${n(a.tokens.vendorCalls)} token requests | ≤ ${n(a.flowLimit)} ${mark(over['attack: /token vendor requests from one address beyond its limit'] === 0)} |`,
      `| 100 sequential calls, upstream always 401 | ${n(a.refused.sent)} | ${n(a.refused.accepted)} (502 fresh_token_refused) | ${n(a.refused.limited)} | ${n(a.refused.other)} | ${n(a.refused.tokenRequests)} token request${a.refused.tokenRequests === 1 ? '' : 's'} | ≤ 3 ${mark(over['attack: token requests for an always-401 upstream beyond 3'] === 0)} |`,
      `| finding 1: 55 pairs, a 200 route then a 401 route | ${n(a.alternating.sent)} | ${n(a.alternating.accepted)} (200, or 502 fresh_token_refused) | ${n(a.alternating.limited)} | ${n(a.alternating.other)} | ${n(a.alternating.tokenRequests)} token requests | ≤ 1 per window begun (${n(a.alternating.windows)}) ${mark(over['finding 1: token requests of the 200/401 alternation beyond one per renewal window'] === 0)} |`,
      `| finding 2: cookieless callbacks, 130 addresses | ${n(a.callbacks.sent)} | ${n(a.callbacks.accepted)} (400, no budget spent) | ${n(a.callbacks.limited)} | ${n(a.callbacks.other)} | ${n(a.callbacks.tokenRequests)} token requests | 0 ${mark(over['finding 2: cookieless callbacks answered other than 400 (a budget spent, or a token request)'] === 0)} |`,
      `| finding 2: 11 addresses × 110 \`/api\` calls, then a new caller | ${n(a.spenders.sent)} | ${n(a.spenders.accepted)} | ${n(a.spenders.limited)} | ${n(a.spenders.other)} | the new caller refused ${n(a.spenders.newcomerRefused)} times | 0 ${mark(over['finding 2: calls of a caller never seen before refused after the floods'] === 0)} |`,
      `| finding 2: the vendor's 429 (Retry-After 5), then 20 callers | ${n(a.vendorWait.sent)} | – | ${n(a.vendorWait.limited)} | ${n(a.vendorWait.other)} | ${n(a.vendorWait.reachedDuringWait)} calls during the wait | 0 ${mark(over['finding 2: calls that reached the vendor during its own Retry-After'] === 0 && over["finding 2: callers not told to wait during the vendor's Retry-After"] === 0)} |`,
      `| finding 4: wrong operator keys, one address | ${n(a.wrongKeys.sent)} | ${n(a.wrongKeys.accepted)} (401, compared) | ${n(a.wrongKeys.limited)} | ${n(a.wrongKeys.other)} | – | compared ≤ ${n(a.apiLimit)}, then 429 ${mark(over['finding 4: wrong keys compared beyond the per-caller limit'] === 0 && over['finding 4: a wrong-key flood that never met 429'] === 0)} |`,
    );
  }
  lines.push('', '## Answers by vendor', '', '| vendor | requests | vendor data | documented errors | WRONG | lost |', '| --- | --- | --- | --- | --- | --- |');
  for (const [vendor, s] of Object.entries(result.perVendor)) lines.push(`| ${vendor} | ${n(s.requests)} | ${n(s.data)} | ${n(s.errors)} | ${n(s.wrong)} | ${n(s.lost)} |`);
  lines.push('', '## Answers by kind', '', '| vendor | kind | answer | count |', '| --- | --- | --- | --- |');
  for (const row of [...result.codes].sort((a, b) => a.vendor.localeCompare(b.vendor) || b.count - a.count)) lines.push(`| ${row.vendor} | ${row.kind} | ${row.code} | ${n(row.count)} |`);
  lines.push('', '## Fault schedule', '', '| at request | vendor | fault | state | settled after |', '| --- | --- | --- | --- | --- |');
  for (const event of result.events) {
    const detail = [event.count !== undefined ? `count ${event.count}` : '', event.retryAfter !== undefined ? `Retry-After ${event.retryAfter}` : '', event.delayMs !== undefined ? `${event.delayMs} ms` : '']
      .filter(Boolean)
      .join(', ');
    const what = event.fault === 'revoke' ? 'revoke' : `${event.fault}${detail ? ` (${detail})` : ''}${event.armedBefore ? ', armed before the load (the cold start meets it)' : ' + revoke'}`;
    lines.push(`| ${n(event.firedAtRequest ?? Math.round(event.at * result.requests))} | ${event.vendor} | ${what} | ${event.state}${event.error ? `: ${event.error}` : ''} | ${event.settledMs === undefined ? '' : `${(event.settledMs / 1000).toFixed(1)} s`} |`);
  }
  if (result.wrongSamples.length) lines.push('', '## WRONG samples', '', ...result.wrongSamples.map((s) => `- ${s}`));
  if (result.lostSamples.length) lines.push('', '## Lost samples', '', ...result.lostSamples.map((s) => `- ${s}`));
  const failed = Object.entries(zero).filter(([, value]) => value !== 0);
  lines.push('', failed.length === 0 ? '**Result: pass** — every must-be-0 figure is 0.' : `**Result: FAIL** — ${failed.map(([name, value]) => `${name}: ${value}`).join('; ')}.`);
  return `${lines.join('\n')}\n`;
}
