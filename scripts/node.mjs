// Finds a Node >= 22 for the project's tools (wrangler, vitest and miniflare need it), installing one
// from the npm registry's `node` package into ~/.cache/tokengate-node when the machine's is older.
// Runs on any Node >= 18, so `npm start` and `npm test` work on a machine whose Node is end-of-life.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const MAJOR = 22;
const dir = process.env.TOKENGATE_NODE_DIR ?? join(homedir(), '.cache', 'tokengate-node');
const bin = join(dir, 'node_modules', '.bin');

function major(node) {
  try {
    return Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
  } catch {
    return 0;
  }
}

/** Absolute path of a Node >= 22 binary. */
export function ensureNode() {
  if (Number(process.versions.node.split('.')[0]) >= MAJOR) return process.execPath;
  const candidate = join(bin, 'node');
  if (existsSync(candidate) && major(candidate) >= MAJOR) return candidate;
  console.error(`tokengate: Node ${process.versions.node} is older than ${MAJOR}; installing node@${MAJOR} into ${dir} (once)…`);
  execFileSync('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `node@${MAJOR}`], { stdio: 'inherit' });
  if (major(candidate) < MAJOR) throw new Error(`could not install Node ${MAJOR} into ${dir}`);
  return candidate;
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
