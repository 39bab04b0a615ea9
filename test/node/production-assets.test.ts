import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A deploy ships the product and only the product (docs/security.md row 22): a fresh clone, which has
// no web-demo/dist and no build/, bundled as `wrangler deploy --dry-run --env production` would upload
// it. Its `[build]` command builds the embed; its static files are the embed and the chunks it loads,
// and no demo page, demo script or example storefront.

const root = new URL('../../', import.meta.url).pathname;
interface DryRun {
  directory: string;
  files: string[];
  log: string;
}
const load = <T>(path: string): Promise<T> => import(/* @vite-ignore */ new URL(path, import.meta.url).href) as Promise<T>;

/** The chunk files a bundle imports, statically or on use (`./chunks/x.js`, `"./x.js"` inside a chunk). */
function importsOf(code: string): string[] {
  return [...code.matchAll(/["'](\.\/(?:chunks\/)?[\w-]+\.js)["']/g)].map((match) => match[1]!);
}

describe('a fresh clone’s production deploy ships the embed and no demo page', () => {
  let clone: string;
  let dryRun: DryRun;

  beforeAll(async () => {
    clone = mkdtempSync(join(tmpdir(), 'tokengate-clone-'));
    execFileSync('git', ['clone', '--quiet', root, clone], { stdio: 'ignore' });
    // The clone's `npm ci` would install the same lock file; the worktree's modules stand in for it.
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const { dryRunAssets } = await load<{ dryRunAssets(options: { cwd: string; env: string }): DryRun }>('../../scripts/worker-bundle.mjs');
    dryRun = dryRunAssets({ cwd: clone, env: 'production' });
  }, 120_000);
  afterAll(() => {
    if (clone) rmSync(clone, { recursive: true, force: true });
  });

  it('builds the embed itself: the [build] command runs before the assets are read', () => {
    expect(dryRun.log).toContain('[custom build] Running: node scripts/build-web.mjs --production');
    expect(dryRun.directory).toBe(join(clone, 'build', 'assets'));
  });

  it('finds the embed script and every chunk it loads', () => {
    expect(dryRun.files).toContain('/dist/tokengate-embed.js');
    const seen = new Set<string>();
    const queue = ['/dist/tokengate-embed.js'];
    while (queue.length > 0 && seen.size < 50) {
      const file = queue.shift()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const base = file.slice(0, file.lastIndexOf('/'));
      for (const relative of importsOf(readFileSync(join(dryRun.directory, file), 'utf8'))) queue.push(`${base}/${relative.slice(2)}`);
    }
    // The embed has a shared chunk and its token-mediating half (README, "Storefront embed").
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect([...seen].filter((file) => !dryRun.files.includes(file))).toEqual([]);
  });

  it('ships no demo page, demo script, stylesheet or example storefront', () => {
    expect(dryRun.files.filter((file) => !file.startsWith('/dist/') || file.endsWith('.html'))).toEqual([]);
    for (const demo of ['/index.html', '/callback.html', '/styles.css', '/embed/example.html', '/dist/app.js', '/dist/callback.js', '/dist/tokengate.js']) {
      expect(dryRun.files).not.toContain(demo);
    }
  });

  it('serves the embed to storefronts on other origins: the /dist/* CORS headers ship too', () => {
    const headers = readFileSync(join(dryRun.directory, '_headers'), 'utf8');
    expect(headers).toMatch(/^\/dist\/\*\n\s+Access-Control-Allow-Origin: \*$/m);
  });
});
