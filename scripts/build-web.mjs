// Builds the web demo's browser bundles with esbuild (ESM, minified, for browsers):
//   web-demo/src/tokengate-browser.ts      → web-demo/dist/tokengate.js        (the core + mediated linking)
//   web-demo/embed/src/tokengate-embed.ts  → web-demo/dist/tokengate-embed.js  (the storefront embed)
//   web-demo/src/app.ts, callback.ts        → web-demo/dist/app.js, callback.js (the demo's two pages)
// with code splitting: what both share, and what the embed loads only on use (its token-mediating mode),
// goes to web-demo/dist/chunks/. Chunks of earlier builds are deleted after the new files are written
// (never before: a running `npm start` keeps serving the current ones), so no stale chunk is served.
// `buildWeb()` answers the output sizes (raw and gzip); run directly, it prints them. The output is
// checked for the sandbox's secret canary (docs/security.md row 7): a bundle that carries one fails the build.
//
// `--production` (the `[env.production.build]` command of wrangler.toml, so `wrangler deploy --env
// production` runs it) builds the same bundles into build/assets/dist/ and copies web-demo/_headers
// beside them: build/assets is production's assets directory, the embed and what it loads and nothing
// else. The demo pages and the example storefront stay in web-demo/, served only with the local sandbox.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const devOutdir = join(root, 'web-demo', 'dist');
/** Production's assets directory (wrangler.toml `[env.production.assets]`); not committed. */
export const PRODUCTION_ASSETS = join(root, 'build', 'assets');

/** Entry → output file name under web-demo/dist. */
const ENTRIES = {
  tokengate: join(root, 'web-demo', 'src', 'tokengate-browser.ts'),
  'tokengate-embed': join(root, 'web-demo', 'embed', 'src', 'tokengate-embed.ts'),
  // The demo's own pages (index.html, callback.html), type-checked with web-demo/tsconfig.json.
  app: join(root, 'web-demo', 'src', 'app.ts'),
  callback: join(root, 'web-demo', 'src', 'callback.ts'),
};

/** Values that must never reach a browser bundle: the sandbox's demo secrets all contain this. */
const CANARIES = ['sandbox-secret'];

/**
 * Builds both bundles: into web-demo/dist (the local demo), or with `production` into
 * build/assets/dist with the static headers beside (the deploy's assets).
 * @param {{ production?: boolean }} [options]
 * @returns {Promise<Array<{ file: string, bytes: number, gzipBytes: number }>>}
 */
export async function buildWeb(options = {}) {
  const outdir = options.production ? join(PRODUCTION_ASSETS, 'dist') : devOutdir;
  mkdirSync(join(outdir, 'chunks'), { recursive: true });
  if (options.production) copyFileSync(join(root, 'web-demo', '_headers'), join(PRODUCTION_ASSETS, '_headers'));
  const result = await build({
    absWorkingDir: root,
    // Production ships the embed only; the core bundle is the demo page's.
    entryPoints: options.production ? { 'tokengate-embed': ENTRIES['tokengate-embed'] } : ENTRIES,
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'browser',
    // The browsers with AbortSignal.any, which the core needs (README, "The core API").
    target: ['es2022', 'chrome116', 'firefox124', 'safari17.4'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // The core's "sideEffects": false applies to its own modules; the entries here are kept whole.
    treeShaking: true,
  });
  const written = new Set(Object.keys(result.metafile.outputs).map((output) => join(root, output)));
  const chunks = join(outdir, 'chunks');
  for (const name of readdirSync(chunks)) {
    if (!written.has(join(chunks, name))) rmSync(join(chunks, name), { force: true });
  }
  const sizes = [];
  for (const output of Object.keys(result.metafile.outputs).sort()) {
    const path = join(root, output);
    const contents = readFileSync(path);
    const text = contents.toString('utf8');
    const leaked = CANARIES.find((canary) => text.includes(canary));
    if (leaked) throw new Error(`${output} contains the secret canary "${leaked}": a secret reached a browser bundle`);
    sizes.push({ file: relative(root, path), bytes: contents.length, gzipBytes: gzipSync(contents, { level: 9 }).length });
  }
  return sizes;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const sizes = await buildWeb({ production: process.argv.includes('--production') });
    for (const { file, bytes, gzipBytes } of sizes) {
      console.log(`${file.padEnd(36)} ${(bytes / 1024).toFixed(1).padStart(6)} KiB  (${(gzipBytes / 1024).toFixed(1)} KiB gzip)`);
    }
  } catch (error) {
    console.error(`build-web: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
