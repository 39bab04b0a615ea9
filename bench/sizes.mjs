// Bundle sizes of the single-page-app job (PKCE + authorization URL + code exchange + a token kept
// fresh with single-flight refresh), ours beside the same job written with each peer, plus the
// tokengate/http and tokengate/browser entries and the storefront embed. Every entry is bundled by the
// same esbuild call (minified ESM for browsers) and gzipped at level 9 with node:zlib; the embed is split
// as scripts/build-web.mjs ships it, into what a page loads and what its mediated mode adds on use.
// Run directly (`node bench/sizes.mjs`) it also prints which modules weigh most in each bundle.
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, transform } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundleDir = join(root, 'bench', 'bundle');

/** What each row bundles; `peer` names the npm package whose version is shown. */
const JOB = [
  { what: 'tokengate (`createPkce` via `startAuthorization`, `completeAuthorization`, `createTokenSource`)', entry: 'tokengate.js', ours: true },
  { what: '@badgateway/oauth2-client (with `OAuth2Fetch`)', entry: 'badgateway.js', peer: '@badgateway/oauth2-client' },
  { what: 'oauth4webapi (+ a hand-written single-flight refresh)', entry: 'oauth4webapi.js', peer: 'oauth4webapi' },
  { what: 'arctic (`OAuth2Client`, + a hand-written single-flight refresh)', entry: 'arctic.js', peer: 'arctic' },
  { what: 'oidc-client-ts (`OidcClient`, + a hand-written single-flight refresh)', entry: 'oidc-client-ts-oidcclient.js', peer: 'oidc-client-ts' },
  { what: 'oidc-client-ts (`UserManager`, + a hand-written single-flight around `signinSilent`)', entry: 'oidc-client-ts.js', peer: 'oidc-client-ts' },
];

const EMBED = join(root, 'web-demo', 'embed', 'src', 'tokengate-embed.ts');

/**
 * The standards (issue 13), each its own import: what it adds to the single-page-app job when an app
 * imports it (the job plus a re-export, so nothing of it is shaken out).
 */
const STANDARDS = [
  { what: 'revocation (`revokeToken`)', names: ['revokeToken'] },
  { what: 'introspection (`introspectToken`)', names: ['introspectToken'] },
  { what: 'JWT client authentication (`importClientKey`)', names: ['importClientKey'] },
  { what: 'DPoP (`createDpop`, `withDpop`)', names: ['createDpop', 'withDpop'] },
  { what: 'PAR (`withPar`)', names: ['withPar'] },
  { what: 'all of them', names: ['revokeToken', 'introspectToken', 'importClientKey', 'createDpop', 'withDpop', 'withPar'] },
];

const OTHERS = [
  { what: '`tokengate/http` (src/http/index.ts, ky included)', entry: join(root, 'src', 'http', 'index.ts') },
  { what: '`tokengate/browser` (src/browser/index.ts, idb-keyval included)', entry: join(root, 'src', 'browser', 'index.ts') },
];

/**
 * The checks our single-page-app job keeps, whatever its size, and the module that pays for each: the
 * size is measured with every one of them in the bundle. Each is proven by the tests named.
 */
export const CHECKS = [
  ['state: CSPRNG, compared in constant time, missing or mismatched refused before any request', 'pkce.ts, encoding.ts, authorization.ts', 'test/unit/authorization.test.ts, parsers.property.test.ts'],
  ['PKCE S256 only (RFC 7636), 43-character verifier from the CSPRNG', 'pkce.ts, encoding.ts', 'test/unit/pkce.test.ts'],
  ['redirect URI: configured, absolute, no fragment; the callback must come back to it', 'authorization.ts', 'test/unit/authorization.test.ts'],
  ['`iss` (RFC 9207): checked when sent, required when the server advertises it, refused without a configured issuer', 'authorization.ts', 'test/unit/authorization.test.ts, parsers.property.test.ts'],
  ['an error callback becomes an OAuthError, its text redacted of the code', 'authorization.ts, redact.ts, errors.ts', 'test/unit/canary.test.ts'],
  ['endpoints: absolute, https: except loopback, no credentials, no fragment; scopes are scope-tokens', 'profile.ts, profiles/oauth2.ts', 'test/unit/profiles.test.ts, scope.test.ts'],
  ['timeouts (request and body read), the caller\'s AbortSignal, redirects never followed', 'transport.ts', 'test/unit/token-response.test.ts'],
  ['size cap: Content-Length first, then bytes counted as they stream', 'transport.ts', 'test/unit/token-response.test.ts'],
  ['content type: HTML pages (by type or by content), other types, truncated or malformed JSON, each a typed error', 'transport.ts, token-response.ts', 'test/unit/token-response.test.ts, parsers.property.test.ts'],
  ['token answer fields (RFC 6749 §5.1): access_token, token_type, refresh_token as visible ASCII, expires_in bounded, scope; the bad field named', 'token-response.ts', 'test/unit/token-response.test.ts, parsers.property.test.ts'],
  ['error answers: RFC 6749 §5.2 bodies, RFC 9457 problem details, vendor mappings, plain HTTP status; Retry-After', 'token-response.ts, transport.ts', 'test/unit/token-response.test.ts, parsers.property.test.ts'],
  ['redaction: every credential of the request and the profile, of any length, also percent- and form-encoded, out of every message', 'redact.ts, grants.ts', 'test/unit/canary.test.ts, parsers.property.test.ts, test/node/redaction.test.ts'],
  ['typed errors: one base class, stable codes, cross-realm guards, messages that name the endpoint and what was wrong', 'errors.ts and each message', 'test/unit/errors.test.ts'],
  ['token source: single-flight, refresh ahead of expiry, rotation stored before use, invalid_grant terminal, bounded retries with backoff and Retry-After, the vendor\'s minimum interval, store and lock', 'token-source.ts, store.ts', 'test/unit/token-source.test.ts'],
];

/**
 * The goal for ours (issue 26): at most this many gzip bytes with every check of CHECKS kept, within a
 * fifth of the measured floor (about 5.39 kB), and smaller than the peer that checks as much
 * (oauth4webapi with a hand-written single-flight).
 */
export const GOAL_GZIP = 6400;
const CHECKS_AS_MUCH = 'oauth4webapi';

/** The esbuild options every measurement shares: ESM for browsers, tree-shaken, in memory. */
const BROWSER = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  treeShaking: true,
  legalComments: 'none',
  write: false,
  logLevel: 'silent',
};

/**
 * Bundles one entry in memory (a path, or `{ source }`: module text resolved from the repo's root);
 * answers raw and gzip -9 bytes and the per-module byte counts.
 */
export async function bundle(entry) {
  const input = typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.source, resolveDir: root, loader: 'js' } };
  const result = await build({ ...BROWSER, ...input, minify: true, metafile: true, outfile: 'out.js' });
  const contents = result.outputFiles[0].contents;
  const [output] = Object.values(result.metafile.outputs);
  const modules = Object.entries(output.inputs)
    .map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
  return { bytes: contents.length, gzip: gzipSync(contents, { level: 9 }).length, modules, code: contents };
}

/**
 * Bundles an entry with code splitting, as scripts/build-web.mjs ships it, and answers what a page loads
 * up front (the entry and the chunks it imports) and what its dynamic imports add on first use. Each file
 * is gzipped on its own: each is its own HTTP response.
 */
export async function bundleSplit(entry) {
  const result = await build({ ...BROWSER, entryPoints: [entry], minify: true, metafile: true, splitting: true, chunkNames: 'chunks/[name]-[hash]', outdir: 'out' });
  const contents = new Map(result.outputFiles.map((file) => [relative(root, file.path), file.contents]));
  const outputs = result.metafile.outputs;
  const closure = (start, into = new Set()) => {
    if (into.has(start)) return into;
    into.add(start);
    for (const imported of outputs[start].imports) if (imported.kind === 'import-statement') closure(imported.path, into);
    return into;
  };
  const initial = closure(Object.keys(outputs).find((path) => outputs[path].entryPoint !== undefined));
  const lazy = new Set();
  for (const path of initial) {
    for (const imported of outputs[path].imports) if (imported.kind === 'dynamic-import') closure(imported.path, lazy);
  }
  for (const path of initial) lazy.delete(path);
  const measure = (paths) =>
    [...paths].reduce((sum, path) => ({ bytes: sum.bytes + contents.get(path).length, gzip: sum.gzip + gzipSync(contents.get(path), { level: 9 }).length }), { bytes: 0, gzip: 0 });
  return { initial: measure(initial), lazy: measure(lazy) };
}

const version = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;

const kB = (bytes) => `${(bytes / 1000).toFixed(2)} kB`;

export async function sizes() {
  const job = [];
  for (const row of JOB) {
    const result = await bundle(join(bundleDir, row.entry));
    job.push({ ...row, ...result, version: row.peer ? version(row.peer) : undefined });
  }
  const oursRow = job.find((row) => row.ours);
  const smallest = Math.min(...job.map((row) => row.gzip));
  const bestPeer = Math.min(...job.filter((row) => !row.ours).map((row) => row.gzip));
  const rows = job.map((row) => ({
    what: row.ours ? row.what : `${row.what} ${row.version}`,
    raw: kB(row.bytes),
    gzip: kB(row.gzip),
    ratio: row.ours ? '1.00x' : `${(row.gzip / oursRow.gzip).toFixed(2)}x`,
    goal: row.ours ? `≤ ${kB(GOAL_GZIP)} gzip, below ${CHECKS_AS_MUCH}` : row.gzip === smallest ? 'smallest' : '',
    pass: row.ours ? row.gzip <= GOAL_GZIP && row.gzip < job.find((peer) => peer.peer === CHECKS_AS_MUCH).gzip : undefined,
  }));
  for (const other of OTHERS) {
    const result = await bundle(other.entry);
    rows.push({ what: other.what, raw: kB(result.bytes), gzip: kB(result.gzip), ratio: '', goal: 'measured' });
  }
  const embed = await bundleSplit(EMBED);
  rows.push(
    { what: 'storefront embed (web-demo/embed/src/tokengate-embed.ts): what a page loads, `mode="bff"`', raw: kB(embed.initial.bytes), gzip: kB(embed.initial.gzip), ratio: '', goal: 'measured' },
    { what: 'storefront embed: added on first use of `mode="mediated"` (PKCE, token checks, token source)', raw: kB(embed.lazy.bytes), gzip: kB(embed.lazy.gzip), ratio: '', goal: 'measured' },
  );
  const jobSource = `export * from './bench/bundle/${JOB.find((row) => row.ours).entry}';\n`;
  const standards = [];
  for (const standard of STANDARDS) {
    const result = await bundle({ source: `${jobSource}export { ${standard.names.join(', ')} } from './src/index.ts';\n` });
    standards.push({ what: standard.what, added: result.gzip - oursRow.gzip });
  }
  // Where our gzip bytes go, largest first.
  const { costs } = await moduleCosts(join(bundleDir, JOB.find((row) => row.ours).entry));
  const name = (path) => path.replace(/^node_modules\/([^/]+)\/.*$/, '$1').replace(/^src\//, '');
  const breakdown = costs
    .filter((m) => m.gzip >= 50)
    .map((m) => `${name(m.path)} ${kB(m.gzip)}`)
    .join(', ');
  return { rows, breakdown, standards, ours: oursRow.gzip, bestPeer };
}

/**
 * What each module costs in the gzipped bundle: the bundle's gzip size minus the gzip size of the
 * same bundle without that module's code. Whitespace is kept while splitting (esbuild marks each
 * module with a `// path` comment), then minified away before compressing.
 */
export async function moduleCosts(entry) {
  // Whitespace minification is off, so esbuild does not define NODE_ENV by itself: defined here, the
  // breakdown is of the production messages, as in the minified bundle.
  const result = await build({ ...BROWSER, entryPoints: [entry], minifySyntax: true, minifyIdentifiers: true, define: { 'process.env.NODE_ENV': '"production"' }, outfile: 'out.js' });
  const text = result.outputFiles[0].text;
  // Module markers are `// path` lines; `// @__NO_SIDE_EFFECTS__` annotations stay with their module.
  const parts = text.split(/^\/\/ ([^@\s]\S*)$/m);
  const segments = [{ path: '(prelude)', code: parts[0] }];
  for (let i = 1; i < parts.length; i += 2) segments.push({ path: parts[i], code: parts[i + 1] });
  const gzip = async (code) => gzipSync((await transform(code, { minifyWhitespace: true, logLevel: 'silent' })).code, { level: 9 }).length;
  const whole = await gzip(segments.map((s) => s.code).join('\n'));
  const costs = [];
  for (const [index, segment] of segments.entries()) {
    if (segment.code.trim() === '') continue;
    const without = await gzip(segments.filter((_, i) => i !== index).map((s) => s.code).join('\n'));
    costs.push({ path: segment.path, gzip: whole - without });
  }
  return { whole, costs: costs.sort((a, b) => b.gzip - a.gzip) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log('Checks the single-page-app job keeps (each in the measured bundle):');
  for (const [check, where] of CHECKS) console.log(`  - ${check} (${where})`);
  for (const row of JOB) {
    const entry = join(bundleDir, row.entry);
    const result = await bundle(entry);
    console.log(`\n${row.entry}: ${result.bytes} B minified, ${result.gzip} B gzip -9`);
    const { costs } = await moduleCosts(entry);
    const raw = new Map(result.modules.map((m) => [m.path, m.bytes]));
    console.log('  minified  gzip cost  module');
    for (const m of costs.slice(0, 16)) {
      console.log(`  ${String(raw.get(m.path) ?? '').padStart(8)}  ${String(m.gzip).padStart(9)}  ${m.path}`);
    }
  }
}
