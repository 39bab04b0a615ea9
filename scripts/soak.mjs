// `npm run soak`: the reliability soak. Starts `wrangler dev --local` on a free port (on a snapshot of
// the tree, so edits made meanwhile cannot reload it), drives 20,000 proxied GETs at concurrency 100
// from 1,000 caller IPs while the sandbox injects 5xx, 429 + Retry-After, slow, truncated and HTML
// token answers and revocations, then prints a Markdown report (also written to test-results/soak.md,
// with wrangler's log in test-results/soak-wrangler.log) and exits non-zero when any must-be-0 figure
// is not 0.
//
//   node scripts/soak.mjs [--requests 20000] [--concurrency 100] [--ips 1000] [--timeout 30000]
//                         [--schedule full|short] [--no-snapshot]
//
// Only 127.0.0.1 is ever called. Bounded: each request 30 s, the load 8 minutes, the whole run 10.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { childEnv, ensureNode } from './node.mjs';
import { formatReport, FULL_SCHEDULE, mustBeZero, ROOT, runSoak, scanLog, SHORT_SCHEDULE, snapshotTree, startStack } from './soak-engine.mjs';

const HARD_CAP_MS = 10 * 60_000;

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '100' },
    ips: { type: 'string', default: '1000' },
    timeout: { type: 'string', default: '30000' },
    schedule: { type: 'string', default: 'full' },
    'no-snapshot': { type: 'boolean', default: false },
  },
});
const positive = (name) => {
  const value = Number(values[name]);
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`soak: --${name} must be a positive integer`);
    process.exit(2);
  }
  return value;
};
const requests = positive('requests');
const concurrency = positive('concurrency');
const ips = positive('ips');
const requestTimeoutMs = positive('timeout');
if (requests > 1_000_000 || concurrency > 1000) {
  console.error('soak: at most 1,000,000 requests and concurrency 1000');
  process.exit(2);
}
const schedule = values.schedule === 'short' ? SHORT_SCHEDULE : FULL_SCHEDULE;

const node = ensureNode();
const started = Date.now();
const snapshot = values['no-snapshot'] ? undefined : snapshotTree(ROOT);
let wrangler;

async function shutdown(code) {
  clearTimeout(hardCap);
  if (wrangler) {
    await wrangler.stop();
    wrangler.cleanup();
  }
  snapshot?.remove();
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\nsoak: ${signal}, stopping wrangler`);
    void shutdown(130);
  });
}
process.on('exit', () => wrangler?.killNow());
const hardCap = setTimeout(() => {
  console.error(`soak: the hard cap of ${HARD_CAP_MS / 60_000} minutes was reached; stopping`);
  void shutdown(3);
}, HARD_CAP_MS);

try {
  console.log(`soak: starting wrangler dev${snapshot ? ` on a snapshot of the tree (${snapshot.dir})` : ''}…`);
  wrangler = await startStack({ node, env: childEnv(node), cwd: snapshot?.dir ?? ROOT });
  console.log(`soak: ${wrangler.url} ready after ${((Date.now() - started) / 1000).toFixed(1)} s; ${requests.toLocaleString('en')} requests at concurrency ${concurrency}`);
  const reloadsBefore = wrangler.reloads();
  const result = await runSoak({
    base: wrangler.url,
    sandbox: wrangler.sandboxUrl,
    requests,
    concurrency,
    ips,
    requestTimeoutMs,
    schedule,
    deadlineMs: 8 * 60_000,
    onProgress: (line) => console.log(line),
  });
  const reloads = wrangler.reloads() - reloadsBefore;
  await wrangler.stop();
  const log = wrangler.log();
  const logScan = scanLog(log, result.needles);
  const report = formatReport(result, logScan, reloads, `tokengate soak — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  process.stdout.write(`\n${report}`);
  const out = join(ROOT, 'test-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'soak.md'), report);
  writeFileSync(join(out, 'soak-wrangler.log'), log);
  console.log(`\nsoak: report in test-results/soak.md, wrangler's log (${logScan.lines.toLocaleString('en')} lines) in test-results/soak-wrangler.log; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  const failed = Object.values(mustBeZero(result, logScan, reloads)).some((value) => value !== 0);
  await shutdown(failed ? 1 : 0);
} catch (error) {
  console.error(`soak: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  if (wrangler) {
    const exited = wrangler.exited();
    if (exited) console.error(`soak: wrangler dev had exited: ${JSON.stringify(exited)}`);
    const out = join(ROOT, 'test-results');
    mkdirSync(out, { recursive: true });
    const log = wrangler.log();
    writeFileSync(join(out, 'soak-wrangler.log'), log);
    console.error(`soak: wrangler's log is in test-results/soak-wrangler.log; its end:\n${log.slice(-3000)}`);
  }
  await shutdown(1);
}
