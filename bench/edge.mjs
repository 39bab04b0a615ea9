// The edge proxy bench: proxied GETs per second and latency through `wrangler dev --local` for the real
// Worker on a cached token, beside a minimal pass-through Worker (bench/passthrough) in front of the same
// upstream, measured in the same run with the same load generator, interleaved.
//
// The upstream is a node:http server on 127.0.0.1 started here: POST /oauth/token answers a client
// credentials token, GET /api/v2/orders the vendor JSON behind the bearer. The real Worker reaches it
// through a vendor configured in bench/edge.wrangler.toml; the pass-through gets one token once and
// forwards. Both run on a snapshot of the tree, each in its own `wrangler dev`.
//
// `edgeProxy()` answers the Markdown rows for bench/run.mjs; `node bench/edge.mjs` prints them.
// 127.0.0.1 only; every phase has a fixed duration; the whole bench is capped at 4 minutes.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { childEnv, ensureNode } from '../scripts/node.mjs';
import { ROOT, snapshotTree, startWrangler } from '../scripts/soak-engine.mjs';

/** Concurrency of the throughput phases, and their length. */
const CONCURRENCY = 32;
const PHASE_MS = 4_000;
const WARMUP_MS = 2_000;
const ROUNDS = 3;
/** The unloaded latency phases: one request at a time. */
const LATENCY_MS = 2_000;
const HARD_CAP_MS = 4 * 60_000;

const ORDERS = JSON.stringify({
  status: 'OK',
  orders: [
    { id: 'IBX-100001', status: 'CREATED', parcels: 1, recipient: { name: 'Ada Lovelace', city: 'Stockholm' } },
    { id: 'IBX-100002', status: 'DELIVERED', parcels: 2, recipient: { name: 'Alan Turing', city: 'Göteborg' } },
  ],
});

/** The tiny upstream both Workers front: a token endpoint and one API route behind the bearer. */
function startUpstream(clientSecret) {
  const token = `bench-${randomBytes(24).toString('base64url')}`;
  const counts = { token: 0, api: 0, refused: 0 };
  const basic = `Basic ${Buffer.from(`bench-client:${clientSecret}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/oauth/token') {
      counts.token++;
      req.resume();
      req.on('end', () => {
        if (req.headers.authorization !== basic) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 86_400 }));
      });
      return;
    }
    if (req.method === 'GET' && req.url === '/api/v2/orders') {
      counts.api++;
      if (req.headers.authorization !== `Bearer ${token}`) {
        counts.refused++;
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' }).end('{"error":"invalid_token"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(ORDERS);
      return;
    }
    res.writeHead(404).end();
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, counts })));
}

/** CPU seconds used so far by the processes of a process group, split into workerd and the rest (wrangler's node). */
function groupCpu(pgid) {
  const tick = 100; // USER_HZ on Linux
  const out = { workerd: 0, other: 0 };
  let entries = [];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue;
    const seconds = (Number(fields[11]) + Number(fields[12])) / tick;
    if (comm.startsWith('workerd')) out.workerd += seconds;
    else out.other += seconds;
  }
  return out;
}

/**
 * Closed-loop load: `concurrency` callers on keep-alive connections send GETs back to back for `ms`.
 * Answers anything but 200 count as errors. Returns requests, seconds, latencies (ms) and this process's
 * CPU share, so a saturated generator shows.
 */
async function load(url, { concurrency, ms, headers = {} }) {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error('127.0.0.1 only');
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const latencies = [];
  let errors = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + ms;
  const one = () =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.request({ host: '127.0.0.1', port: target.port, path: target.pathname, agent, headers }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) await one();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  return { requests: latencies.length, errors, seconds, latencies, generatorCpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

function merge(runs) {
  const requests = runs.reduce((sum, run) => sum + run.requests, 0);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  const latencies = runs.flatMap((run) => run.latencies);
  return {
    requests,
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    rps: requests / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    generatorCpu: runs.reduce((sum, run) => sum + run.generatorCpu * run.seconds, 0) / seconds,
    perRun: runs.map((run) => run.requests / run.seconds),
  };
}

/** Rows for bench/run.mjs: `{ what, value, ratio, goal, pass?, note? }`. */
export async function edgeProxy() {
  const node = ensureNode();
  const env = childEnv(node);
  const clientSecret = randomBytes(18).toString('base64url');
  const keyRing = `bench:${randomBytes(32).toString('base64url')}`;
  const upstream = await startUpstream(clientSecret);
  const origin = `http://127.0.0.1:${upstream.port}`;
  const snapshot = snapshotTree(ROOT);
  const started = [];
  const cap = setTimeout(() => {
    console.error('bench/edge: the 4-minute cap was reached; stopping');
    for (const w of started) w.killNow();
    process.exit(3);
  }, HARD_CAP_MS);
  try {
    const config = join(snapshot.dir, 'bench', 'edge.generated.wrangler.toml');
    writeFileSync(config, readFileSync(join(snapshot.dir, 'bench', 'edge.wrangler.toml'), 'utf8').replaceAll('__UPSTREAM__', origin));
    const passConfig = join(snapshot.dir, 'bench', 'passthrough', 'wrangler.toml');
    const workers = await Promise.all([
      startWrangler({ node, env, cwd: snapshot.dir, config, vars: { BENCH_CLIENT_SECRET: clientSecret, TOKENGATE_KEYS: keyRing } }),
      startWrangler({ node, env, cwd: snapshot.dir, config: passConfig, vars: { UPSTREAM: origin, CLIENT_SECRET: clientSecret } }),
      startWrangler({ node, env, cwd: snapshot.dir, config: passConfig, vars: { UPSTREAM: origin, CLIENT_SECRET: clientSecret, LOG: '1' } }),
    ]);
    started.push(...workers);
    const browser = { origin: 'http://127.0.0.1:8787', 'x-tokengate-csrf': '1', 'cf-connecting-ip': '198.18.0.1', accept: 'application/json' };
    const names = ['real', 'pass', 'passLog'];
    const targets = Object.fromEntries(names.map((name, i) => [name, { url: `${workers[i].url}/api/bench/v2/orders`, headers: browser, pgid: workers[i].pid, wrangler: workers[i] }]));
    // Each answers 200 with the upstream's JSON before anything is measured (this also gets each token).
    for (const [name, target] of Object.entries(targets)) {
      const check = await load(target.url, { concurrency: 1, ms: 300, headers: target.headers });
      if (check.requests === 0 || check.errors > 0) {
        throw new Error(`the ${name} Worker does not answer 200 on ${target.url}: ${JSON.stringify({ requests: check.requests, errors: check.errors })}\n${target.wrangler.log().slice(-1500)}`);
      }
    }
    for (const target of Object.values(targets)) await load(target.url, { concurrency: CONCURRENCY, ms: WARMUP_MS, headers: target.headers });

    // Throughput, interleaved: each round runs every target once, in a rotated order.
    const runs = Object.fromEntries(names.map((name) => [name, []]));
    const cpu = Object.fromEntries(names.map((name) => [name, { workerd: 0, other: 0, requests: 0 }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length];
        const target = targets[name];
        const before = groupCpu(target.pgid);
        const run = await load(target.url, { concurrency: CONCURRENCY, ms: PHASE_MS, headers: target.headers });
        const after = groupCpu(target.pgid);
        if (before && after) {
          cpu[name].workerd += after.workerd - before.workerd;
          cpu[name].other += after.other - before.other;
          cpu[name].requests += run.requests;
        }
        runs[name].push(run);
      }
    }
    // Latency with nothing queued: one request at a time.
    const latency = Object.fromEntries(names.map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k + 1) % names.length];
        latency[name].push(await load(targets[name].url, { concurrency: 1, ms: LATENCY_MS, headers: targets[name].headers }));
      }
    }
    const workerTokenRequests = upstream.counts.token;
    const direct = await load(`${origin}/api/v2/orders`, { concurrency: CONCURRENCY, ms: 3_000, headers: { authorization: `Bearer ${await tokenOf(origin, clientSecret)}` } });

    const r = merge(runs.real);
    const p = merge(runs.pass);
    const pl = merge(runs.passLog);
    const rL = merge(latency.real);
    const pL = merge(latency.pass);
    const plL = merge(latency.passLog);
    const d = merge([direct]);
    const ratio = r.rps / p.rps;
    const added = rL.p50 - pL.p50;
    const ms = (value) => `${value.toFixed(2)} ms`;
    const signed = (value) => `${value < 0 ? '−' : '+'}${ms(Math.abs(value))}`;
    const rounds = (m) => m.perRun.map(Math.round).join(', ');
    const perReq = (c) => (c.requests === 0 ? 'n/a' : `${((c.workerd * 1000) / c.requests).toFixed(2)} ms workerd + ${((c.other * 1000) / c.requests).toFixed(2)} ms wrangler's node`);
    const generator = Math.max(r.generatorCpu, p.generatorCpu, pl.generatorCpu);
    const generatorNote =
      generator > 0.8
        ? `the node load generator used ${Math.round(generator * 100)}% of a core: it is a bottleneck on this ${cpus().length}-core machine, so the figures are lower bounds and the ratio is compressed toward 1`
        : `not the generator: it used ≤ ${Math.round(generator * 100)}% of a core and reached ${Math.round(d.rps)} req/s straight at the upstream; wrangler dev (its proxy and inspector) and workerd share the ${cpus().length} cores, so absolute figures are dev-mode figures`;
    const errors = [r, p, pl, rL, pL, plL].reduce((sum, m) => sum + m.errors, 0);
    return [
      {
        what: `real Worker (worker/index.ts), cached token, concurrency ${CONCURRENCY}, ${ROUNDS}×${PHASE_MS / 1000} s interleaved`,
        value: `${Math.round(r.rps)} req/s, p50 ${ms(r.p50)}, p99 ${ms(r.p99)}`,
        ratio: `${ratio.toFixed(2)}x the pass-through's req/s (rounds ${rounds(r)} vs ${rounds(p)})`,
        goal: '≥ 0.9x',
        pass: ratio >= 0.9,
        note: `CPU per request ${perReq(cpu.real)}; ${generatorNote}`,
      },
      {
        what: `minimal pass-through Worker (bench/passthrough), same upstream, concurrency ${CONCURRENCY}`,
        value: `${Math.round(p.rps)} req/s, p50 ${ms(p.p50)}, p99 ${ms(p.p99)}`,
        ratio: '1.00x',
        goal: 'baseline',
        note: `CPU per request ${perReq(cpu.pass)}`,
      },
      {
        what: 'the pass-through plus one JSON log line per call (LOG=1): why the Worker logs only failures',
        value: `${Math.round(pl.rps)} req/s, p50 ${ms(pl.p50)}, p99 ${ms(pl.p99)}`,
        ratio: `${(pl.rps / p.rps).toFixed(2)}x the pass-through; the real Worker is ${(r.rps / pl.rps).toFixed(2)}x this`,
        goal: 'reference only',
        note: `CPU per request ${perReq(cpu.passLog)}: what a console.log line costs under wrangler dev, which ships it over the inspector protocol`,
      },
      {
        what: 'added latency, one request at a time (real − pass-through)',
        value: `p50 ${ms(rL.p50)} vs ${ms(pL.p50)} (with the log line ${ms(plL.p50)}); p99 ${ms(rL.p99)} vs ${ms(pL.p99)}`,
        ratio: `${signed(added)} p50 (${signed(rL.p50 - plL.p50)} over the pass-through that logs)`,
        goal: '< 1 ms added p50',
        pass: added < 1,
        note: `${ROUNDS}×${LATENCY_MS / 1000} s per Worker, interleaved`,
      },
      {
        what: `the node upstream straight, no Worker (the generator's ceiling), concurrency ${CONCURRENCY}`,
        value: `${Math.round(d.rps)} req/s, p50 ${ms(d.p50)}`,
        ratio: '',
        goal: 'reference only',
        note: `token requests from the Workers during the bench: ${workerTokenRequests} (1 per Worker: the token stayed cached); refused API calls: ${upstream.counts.refused}; non-200 answers: ${errors}`,
      },
    ];
  } finally {
    clearTimeout(cap);
    for (const w of started) {
      await w.stop();
      w.cleanup();
    }
    snapshot.remove();
    upstream.server.closeAllConnections?.();
    await new Promise((resolve) => upstream.server.close(resolve));
  }
}

async function tokenOf(origin, clientSecret) {
  const answer = await fetch(`${origin}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`bench-client:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  return (await answer.json()).access_token;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mark = (pass) => (pass === undefined ? '' : pass ? ' ✅' : ' ❌');
  const rows = await edgeProxy();
  const lines = ['## Edge proxy through `wrangler dev`', '', '| measurement | result | ratio | goal | notes |', '| --- | --- | --- | --- | --- |'];
  for (const row of rows) lines.push(`| ${row.what} | ${row.value} | ${row.ratio} | ${row.goal}${mark(row.pass)} | ${row.note ?? ''} |`);
  console.log(lines.join('\n'));
}
