// `npm start`: the Worker, its static web demo and (once configured) the vendor sandbox on
// http://127.0.0.1:8787, all local: `wrangler dev --local` with local KV and Durable Objects.
import { spawn } from 'node:child_process';
import { buildWeb } from './build-web.mjs';
import { childEnv, ensureNode } from './node.mjs';

const port = process.env.PORT ?? '8787';
const node = ensureNode();
// The demo's and the embed's browser bundles (web-demo/dist, not committed).
await buildWeb();
const args = [
  'node_modules/wrangler/bin/wrangler.js',
  'dev',
  '--local',
  '--ip',
  '127.0.0.1',
  '--port',
  port,
  '--show-interactive-dev-session=false',
  // Redirect URIs and the allowed origin follow the port (wrangler.toml says 8787).
  ...(port === '8787' ? [] : ['--var', `PUBLIC_ORIGIN:http://127.0.0.1:${port}`, '--var', `ALLOWED_ORIGINS:http://127.0.0.1:${port}`]),
  ...process.argv.slice(2),
];
const child = spawn(node, args, { stdio: ['ignore', 'pipe', 'inherit'], env: childEnv(node) });
let announced = false;
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (!announced && /Ready on/.test(String(chunk))) {
    announced = true;
    console.log(`\ntokengate is running on http://127.0.0.1:${port}  (Ctrl-C stops it)\n`);
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(signal ? 0 : (code ?? 0)));
