// Finds a Node >= 22 for the project's tools (wrangler, vitest and miniflare need it), installing one
// from the npm registry's `node` package into ~/.cache/tokengate-node when the machine's is older.
// Runs on any Node >= 18, so `npm start` and `npm test` work on a machine whose Node is end-of-life.
//
// Two processes may run this at once (`npm start` beside `npm test` on a fresh machine): each installs
// into a temporary sibling directory and renames it into place, so no process ever sees, or installs
// into, a half-written directory.
//
// Environment: TOKENGATE_NODE_DIR (where to install), TOKENGATE_NODE_MAJOR (the Node major needed,
// default 22), TOKENGATE_NODE_INSTALLER (a Node script run as `node <script> <prefix>` that leaves
// `<prefix>/node_modules/.bin/node`; default `npm install --prefix <prefix> node@<major>`; the tests
// point it at a fake so they need no network).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const MAJOR = Number(process.env.TOKENGATE_NODE_MAJOR ?? 22);
const dir = process.env.TOKENGATE_NODE_DIR ?? join(homedir(), '.cache', 'tokengate-node');
const NPM_LEFTOVERS = new Set(['node_modules', 'package.json', 'package-lock.json']);
const binOf = (prefix) => join(prefix, 'node_modules', '.bin', 'node');

function major(node) {
  try {
    return Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
  } catch {
    return 0;
  }
}

/** Installs into `prefix`, with the installer's output on stderr: stdout is the directory .ci/run reads. */
function install(prefix) {
  const stdio = ['ignore', 2, 2];
  const installer = process.env.TOKENGATE_NODE_INSTALLER;
  if (installer) execFileSync(process.execPath, [installer, prefix], { stdio });
  else execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `node@${MAJOR}`], { stdio });
}

/** Absolute path of a Node >= 22 binary. */
export function ensureNode() {
  if (Number(process.versions.node.split('.')[0]) >= MAJOR) return process.execPath;
  const candidate = binOf(dir);
  if (existsSync(candidate) && major(candidate) >= MAJOR) return candidate;
  console.error(`tokengate: Node ${process.versions.node} is older than ${MAJOR}; installing node@${MAJOR} into ${dir} (once)…`);
  mkdirSync(dirname(dir), { recursive: true });
  const unique = `${process.pid}-${Date.now()}`;
  const temp = `${dir}.installing-${unique}`;
  try {
    install(temp);
    if (major(binOf(temp)) < MAJOR) throw new Error(`could not install Node ${MAJOR} into ${temp}`);
    // Bounded: each round either places our copy, finds a working one placed by another process, or
    // moves a broken leftover aside.
    for (let round = 0; round < 3; round++) {
      try {
        renameSync(temp, dir); // atomic; succeeds when dir is absent or empty
        return candidate;
      } catch (error) {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      }
      if (major(candidate) >= MAJOR) return candidate; // another process won the race
      // Only what an npm install leaves is ever removed, never a directory the user filled.
      const entries = existsSync(dir) ? readdirSync(dir) : [];
      if (entries.some((name) => !NPM_LEFTOVERS.has(name))) throw new Error(`${dir} holds no working Node ${MAJOR} and files not installed by npm; remove it or set TOKENGATE_NODE_DIR`);
      const stale = `${dir}.stale-${unique}-${round}`;
      try {
        renameSync(dir, stale);
        rmSync(stale, { recursive: true, force: true });
      } catch (error) {
        if (error.code !== 'ENOENT') throw error; // another process moved it first
      }
    }
    throw new Error(`could not place Node ${MAJOR} at ${dir}`);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** The environment for child processes: the chosen Node first on PATH, telemetry off. */
export function childEnv(node, extra = {}) {
  const nodeDir = node.slice(0, node.lastIndexOf('/'));
  return {
    ...process.env,
    PATH: `${nodeDir}:${process.env.PATH ?? ''}`,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    ...extra,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // `node scripts/node.mjs` prints the directory to put on PATH (used by .ci/run).
  const node = ensureNode();
  console.log(node.slice(0, node.lastIndexOf('/')));
}
