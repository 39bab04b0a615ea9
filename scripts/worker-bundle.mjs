// The product Worker's production bundle, as `wrangler deploy --env production` would upload it,
// built offline with `wrangler deploy --dry-run --outdir`. Used by the production-bundle test (no
// sandbox module, no demo credential, no dev key in it) and by `npm run bench` (its size).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { childEnv, ensureNode } from './node.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bundles the Worker for `env` ('production', or undefined for the top level) and answers its code and
 * sizes: as deployed (wrangler.toml sets no `minify`) and minified, each raw and gzip -9, and what
 * wrangler printed (`output`: among it, the bindings and vars the deploy would carry).
 * @param {{ env?: string, minify?: boolean }} [options]
 * @returns {{ code: string, bytes: number, gzipBytes: number, output: string }}
 */
export function buildWorkerBundle(options = {}) {
  const node = ensureNode();
  const out = mkdtempSync(join(tmpdir(), 'tokengate-bundle-'));
  try {
    const args = [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', out];
    if (options.env) args.push('--env', options.env);
    if (options.minify) args.push('--minify');
    const output = execFileSync(node, args, { cwd: ROOT, env: childEnv(node, { NO_COLOR: '1' }), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    const code = readFileSync(join(out, 'index.js'), 'utf8');
    return { code, bytes: Buffer.byteLength(code), gzipBytes: gzipSync(code, { level: 9 }).length, output };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
