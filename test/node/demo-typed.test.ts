import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The demo page is the first thing a newcomer reads: its scripts are TypeScript under web-demo/src,
// type-checked with web-demo/tsconfig.json (strict, like the rest) and bundled by scripts/build-web.mjs;
// no hand-written JavaScript is served.

const root = new URL('../../', import.meta.url).pathname;
const demo = join(root, 'web-demo');

describe('the demo’s scripts are TypeScript and type-checked', () => {
  it('web-demo holds no hand-written .js: the pages load the bundles of src/app.ts and src/callback.ts', () => {
    const scripts = readdirSync(demo, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.m?js$/.test(entry.name))
      .map((entry) => join(entry.parentPath, entry.name).slice(demo.length + 1))
      .filter((path) => !path.startsWith('dist/'));
    expect(scripts).toEqual([]);
    expect(readFileSync(join(demo, 'index.html'), 'utf8')).toContain('<script type="module" src="/dist/app.js"></script>');
    expect(readFileSync(join(demo, 'callback.html'), 'utf8')).toContain('<script type="module" src="/dist/callback.js"></script>');
    const build = readFileSync(join(root, 'scripts/build-web.mjs'), 'utf8');
    expect(build).toContain("app: join(root, 'web-demo', 'src', 'app.ts')");
    expect(build).toContain("callback: join(root, 'web-demo', 'src', 'callback.ts')");
  });

  it('tsc -p web-demo/tsconfig.json checks them, strictly, and finds nothing', () => {
    const listed = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'web-demo/tsconfig.json', '--listFilesOnly'], { cwd: root, encoding: 'utf8' });
    for (const file of ['app.ts', 'callback.ts', 'messages.ts']) expect(listed.stdout).toContain(join(demo, 'src', file));
    const config = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    expect(config.compilerOptions).toMatchObject({ strict: true, noUncheckedIndexedAccess: true });
    const checked = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'web-demo/tsconfig.json'], { cwd: root, encoding: 'utf8' });
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.status).toBe(0);
  }, 60_000);
});
