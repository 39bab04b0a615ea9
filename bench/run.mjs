// `npm run bench`: every benchmark in one run, printed and written to bench/results.md: first one table
// with every goal, each row with the machine and the date, then each benchmark's own table. Figures are
// ratios measured side by side.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { concurrency, NAMES } from './concurrency.mjs';
import { edgeProxy } from './edge.mjs';
import { hotPath } from './hot-path.mjs';
import { pkce } from './pkce.mjs';
import { CHECKS, sizes } from './sizes.mjs';
import { tokenRequests } from './token-requests.mjs';
import { buildWorkerBundle } from '../scripts/worker-bundle.mjs';

const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
const date = new Date().toISOString().slice(0, 10);
const mark = (pass) => (pass === undefined ? '' : pass ? ' ✅' : ' ❌');
const version = (name) => JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;

const lines = [];
/** Every row that has a goal, for the summary table at the top: one row per goal, each with machine and date. */
const summary = [];
const goal = (section, what, result, target, pass) => summary.push(`| ${section} | ${what} | ${result} | ${target}${mark(pass)} | ${machine} | ${date} |`);

lines.push(
  '## Bundle size: the single-page-app job',
  '',
  'PKCE + authorization URL + code exchange + a token refreshed with single-flight on expiry, written with each library',
  '(bench/bundle/), bundled by one esbuild call (minified ESM, browser, es2022) and gzipped at level 9.',
  '',
  '| bundle | minified | gzip -9 | gzip ÷ ours | goal |',
  '| --- | --- | --- | --- | --- |',
);
const size = await sizes();
for (const row of size.rows) lines.push(`| ${row.what} | ${row.raw} | ${row.gzip} | ${row.ratio} | ${row.goal}${mark(row.pass)} |`);
const ours = size.rows.find((row) => row.pass !== undefined);
goal('bundle size', 'single-page-app job, gzip -9', `${ours.gzip}; best peer ${(size.bestPeer / 1000).toFixed(2)} kB`, ours.goal, ours.pass);
lines.push('', `Where our gzip bytes go (the bundle's gzip size minus its size without that module): ${size.breakdown}.`);
lines.push(
  '',
  'What each standard adds to that job when an app imports it (gzip -9; not imported, it is not in the job):',
  '',
  '| import | added gzip bytes |',
  '| --- | --- |',
  ...size.standards.map((row) => `| ${row.what} | +${row.added} B |`),
);
lines.push(
  '',
  'The checks that size keeps: none is dropped to measure it (the module that pays for each; the tests that prove it).',
  '',
  '| check | paid for by | proven by |',
  '| --- | --- | --- |',
  ...CHECKS.map(([check, where, tests]) => `| ${check} | ${where} | ${tests} |`),
);

// The product Worker as `wrangler deploy --env production` uploads it (wrangler.toml sets no minify).
const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
const deployed = buildWorkerBundle({ env: 'production' });
const minified = buildWorkerBundle({ env: 'production', minify: true });
lines.push(
  '',
  '## The production Worker bundle',
  '',
  '`wrangler deploy --dry-run --env production --outdir …`: product code only (no sandbox module, no demo credential,',
  'no development key: test/node/production-bundle.test.ts). Before the sandbox became a Worker of its own: 203 kB, 48.7 kB gzip.',
  '',
  '| bundle | raw | gzip -9 |',
  '| --- | --- | --- |',
  `| as deployed (not minified) | ${kB(deployed.bytes)} | ${kB(deployed.gzipBytes)} |`,
  `| with \`--minify\` | ${kB(minified.bytes)} | ${kB(minified.gzipBytes)} |`,
);
goal('Worker bundle', '`--env production`, as deployed, gzip -9', kB(deployed.gzipBytes), 'no sandbox code (was 48.7 kB)', undefined);

lines.push('', '## Token source hot path', '', '| measurement | result | time per call, ours ÷ this baseline | goal |', '| --- | --- | --- | --- |');
let subject = '';
for (const row of await hotPath()) {
  lines.push(`| ${row.what} | ${row.value} | ${row.ratio} | ${row.goal}${mark(row.pass)} |`);
  // A row without a ratio is ours; the rows after it are its baselines.
  if (row.ratio === '') subject = row.what;
  if (row.pass !== undefined) goal('hot path', `time per call, ${subject} ÷ ${row.what}`, row.ratio, row.goal, row.pass);
}

lines.push('', '## PKCE: 10,000 verifier + challenge pairs, interleaved, median of 7 rounds', '', '| implementation | result | time per pair ÷ plain WebCrypto | goal |', '| --- | --- | --- | --- |');
for (const row of await pkce()) {
  lines.push(`| ${row.what} | ${row.value} | ${row.ratio} | ${row.goal}${mark(row.pass)} |`);
  if (row.pass !== undefined) goal('PKCE', '10,000 pairs, ours ÷ plain WebCrypto', row.ratio, row.goal, row.pass);
}

lines.push('', '## Token requests vs the minimum', '', '| pattern | token requests | minimum |', '| --- | --- | --- |');
for (const row of await tokenRequests()) {
  lines.push(`| ${row.what} | ${row.value} | ${row.minimum}${mark(row.value === row.minimum)} |`);
  goal('token requests', row.what, `${row.value}`, `${row.minimum}`, row.value === row.minimum);
}

const peers = `${NAMES.badgateway} ${version('@badgateway/oauth2-client')}; ${NAMES.ky} on ky ${version('ky')}`;
lines.push(
  '',
  '## Token requests under concurrency, one local HTTP server',
  '',
  `Real HTTP to one node:http server on 127.0.0.1, real clock, no fake timers. Peers: ${peers}, as their READMEs write them`,
  '(the ky hook keeps its default 300 ms retry delay). tokengate runs with `skew: 50` ms in the 1 s lifetimes row. Token requests',
  'per row; after a dash, API calls that still failed and refresh tokens sent again after rotation (a strict server revokes the grant on that).',
  '',
  `| pattern | tokengate | ${NAMES.badgateway} | ${NAMES.ky} | minimum |`,
  '| --- | --- | --- | --- | --- |',
);
const cell = ({ requests, failed, reuses }) => {
  const notes = [failed > 0 ? `${failed} calls failed` : '', reuses > 0 ? `${reuses} refresh tokens reused` : ''].filter(Boolean);
  return notes.length === 0 ? `${requests}` : `${requests} — ${notes.join(', ')}`;
};
for (const row of await concurrency()) {
  const { ours, badgateway, ky } = row.results;
  const pass = ours.requests === row.minimum && ours.failed === 0;
  lines.push(`| ${row.what} | ${cell(ours)}${mark(pass)} | ${cell(badgateway)} | ${cell(ky)} | ${row.minimum} |`);
  goal('token requests, real HTTP', row.what, `${cell(ours)}; OAuth2Fetch ${cell(badgateway)}; ky hook ${cell(ky)}`, `${row.minimum}`, pass);
}

lines.push(
  '',
  '## Edge proxy through `wrangler dev`',
  '',
  'The real Worker takes one Rate Limiting binding call per proxied call (the caller\'s budget: docs/security.md row 19) and awaits',
  'nothing else before the upstream fetch on a warm token. Under `wrangler dev` that call is simulated by a fetch to a Durable',
  'Object (miniflare\'s RateLimiterObject), which the pass-through does not pay; on Cloudflare the binding counts in the location',
  'without such a round trip.',
  '',
  '| measurement | result | ratio | goal | notes |',
  '| --- | --- | --- | --- | --- |',
);
for (const row of await edgeProxy()) {
  lines.push(`| ${row.what} | ${row.value} | ${row.ratio} | ${row.goal}${mark(row.pass)} | ${row.note ?? ''} |`);
  if (row.pass !== undefined) goal('edge proxy', row.what, row.ratio, row.goal, row.pass);
}

const head = [
  '# tokengate benchmarks',
  '',
  `${date} · ${machine}`,
  '',
  '## Summary: every goal, one run',
  '',
  '| benchmark | measurement | result | goal | machine | date |',
  '| --- | --- | --- | --- | --- | --- |',
  ...summary,
  '',
];
const text = `${[...head, ...lines].join('\n')}\n`;
process.stdout.write(text);
// Sections measured by hand (a tree changed for one measurement) are kept below the run's output.
const results = new URL('./results.md', import.meta.url);
const previous = readFileSync(results, 'utf8');
const byHand = previous.indexOf('\n## Measured by hand');
writeFileSync(results, byHand === -1 ? text : `${text}${previous.slice(byHand)}`);
