// The product Worker's production bundle, as `wrangler deploy --env production` would upload it,
// built offline with `wrangler deploy --dry-run --outdir`. Used by the production-bundle test (no
// sandbox module, no demo credential, no dev key in it) and by `npm run bench` (its size).
// `dryRunAssets()` answers the static files such a deploy would upload (the production-assets test).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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

/**
 * The static files `wrangler deploy --dry-run` of `env` would upload from the project at `cwd`, as
 * wrangler itself lists them (its debug log names every entry of the assets directory it read, then the
 * ones `.assetsignore` and `_headers` take out): URL paths such as `/dist/tokengate-embed.js`, sorted,
 * and the directory they came from. The deploy's `[build]` command runs first, as it would for real.
 * @param {{ cwd?: string, env?: string }} [options]
 * @returns {{ directory: string, files: string[], log: string }}
 */
export function dryRunAssets(options = {}) {
  const node = ensureNode();
  const cwd = options.cwd ?? ROOT;
  const out = mkdtempSync(join(tmpdir(), 'tokengate-assets-'));
  try {
    const args = [join(cwd, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', out];
    if (options.env) args.push('--env', options.env);
    const log = execFileSync(node, args, { cwd, env: childEnv(node, { NO_COLOR: '1', WRANGLER_LOG: 'debug' }), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    const lines = log.split('\n');
    const start = lines.findIndex((line) => /Read \d+ files? from the assets directory /.test(line));
    if (start === -1) throw new Error(`wrangler read no assets directory:\n${log}`);
    const directory = lines[start].replace(/^.*from the assets directory /, '').trim();
    const listed = [];
    const ignored = new Set();
    for (const line of lines.slice(start + 1)) {
      if (line.startsWith('/')) listed.push(line.trim());
      else if (line.startsWith('Ignoring asset: ')) ignored.add(`/${line.slice('Ignoring asset: '.length).trim()}`);
      else break;
    }
    const files = listed.filter((path) => !ignored.has(path) && statSync(join(directory, path)).isFile()).sort();
    return { directory, files, log };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
