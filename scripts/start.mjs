// `npm start`: the Worker and its static web demo on http://127.0.0.1:8787 (PORT overrides) and the
// vendor sandbox, a Worker of its own, on http://127.0.0.1:8788 (SANDBOX_PORT overrides), all local:
// two `wrangler dev --local` processes with local KV and Durable Objects. Ctrl-C stops both, and so do
// SIGTERM and SIGHUP (an IDE's stop button, `timeout`, a closed terminal); and when the parent goes
// away without a word (`kill -TERM` to npm, which does not pass it on), this notices and stops both:
// it never outlives its parent.
//
// The Worker gets the sandbox's demo credentials and a development key ring as secrets from
// sandbox/dev-secrets.mjs (through a temporary env file); a `.dev.vars` of yours overrides them.
// Local state persists in .wrangler/state (`--persist-to DIR` to choose): the Worker's in DIR/worker,
// the sandbox's in DIR/sandbox (two `wrangler dev` processes must not share one directory).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devSecretsEnvFile } from '../sandbox/dev-secrets.mjs';
import { buildWeb } from './build-web.mjs';
import { freePort, portFree } from './free-port.mjs';
import { childEnv, ensureNode } from './node.mjs';

const port = process.env.PORT ?? '8787';
const sandboxPort = process.env.SANDBOX_PORT ?? '8788';
if (port === sandboxPort) {
  console.error(`tokengate: PORT and SANDBOX_PORT are both ${port}; give the sandbox another port`);
  process.exit(1);
}
// Before anything starts: wrangler's own advice for a taken port is its `--port` flag, not ours.
for (const [name, value] of [['PORT', port], ['SANDBOX_PORT', sandboxPort]]) {
  if (!(await portFree(value))) {
    console.error(`tokengate: port ${value} on 127.0.0.1 is in use (another \`npm start\`?); start with ${name}=<another port> npm start`);
    process.exit(1);
  }
}
const origin = `http://127.0.0.1:${port}`;
const sandboxOrigin = `http://127.0.0.1:${sandboxPort}`;

const extra = process.argv.slice(2);
const persistAt = extra.indexOf('--persist-to');
const persistTo = persistAt === -1 ? join('.wrangler', 'state') : extra.splice(persistAt, 2)[1];
const persist = (name) => ['--persist-to', join(persistTo, name)];

const node = ensureNode();
// The demo's and the embed's browser bundles (web-demo/dist, not committed).
await buildWeb();

const secretsDir = mkdtempSync(join(tmpdir(), 'tokengate-dev-'));
const envFile = join(secretsDir, 'worker.env');
writeFileSync(envFile, devSecretsEnvFile(), { mode: 0o600 });

const wrangler = 'node_modules/wrangler/bin/wrangler.js';
// Each `wrangler dev` gets its own inspector port: both would take 9229, and the second would fail.
const dev = async () => ['dev', '--local', '--ip', '127.0.0.1', '--show-interactive-dev-session=false', '--inspector-port', String(await freePort())];
const children = [
  {
    name: 'sandbox',
    args: [wrangler, ...(await dev()), '-c', 'sandbox/wrangler.toml', '--port', sandboxPort, '--var', `ALLOWED_ORIGINS:${origin}`, ...persist('sandbox')],
  },
  {
    name: 'worker',
    args: [
      wrangler,
      ...(await dev()),
      '-c',
      'wrangler.toml',
      '--port',
      port,
      '--env-file',
      envFile,
      ...(existsSync('.dev.vars') ? ['--env-file', '.dev.vars'] : []),
      // Redirect URIs, the allowed origin and the sandbox's endpoints follow the ports.
      '--var',
      `PUBLIC_ORIGIN:${origin}`,
      '--var',
      `ALLOWED_ORIGINS:${origin}`,
      '--var',
      `SANDBOX_ORIGIN:${sandboxOrigin}`,
      ...persist('worker'),
      ...extra,
    ],
  },
].map(({ name, args }) => ({ name, process: spawn(node, args, { stdio: ['ignore', 'pipe', 'inherit'], env: childEnv(node) }) }));

const ready = new Set();
for (const child of children) {
  child.process.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (!ready.has(child.name) && /Ready on/.test(String(chunk))) {
      ready.add(child.name);
      if (ready.size === children.length) {
        console.log(`\ntokengate is running on ${origin}, the vendor sandbox on ${sandboxOrigin}  (Ctrl-C stops both)\n`);
      }
    }
  });
}

let stopping = false;
function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  clearInterval(watchParent);
  for (const child of children) if (child.process.exitCode === null) child.process.kill(signal);
  // A child that ignores the signal is not left behind.
  setTimeout(() => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }, 10_000).unref();
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stopAll(signal === 'SIGHUP' ? 'SIGTERM' : signal));
// The parent ended (this process was handed to init or a subreaper): stop, as if it had said so.
const parent = process.ppid;
const watchParent = setInterval(() => {
  if (process.ppid !== parent) {
    console.error('tokengate: the process that started `npm start` ended; stopping both Workers');
    stopAll('SIGTERM');
  }
}, 500);
let exited = 0;
for (const child of children) {
  child.process.on('exit', (code, signal) => {
    // One stopping on its own takes the other down too: half a stack is no use.
    if (!stopping) {
      console.error(`tokengate: the ${child.name} stopped (${signal ?? `exit ${code}`}); stopping the rest`);
      stopAll('SIGTERM');
      process.exitCode = code || 1;
    }
    if (++exited === children.length) {
      rmSync(secretsDir, { recursive: true, force: true });
      process.exit();
    }
  });
}
