// The README's test command: builds the package, runs every vitest project (Node, Chromium, workerd)
// and ends with the plain line "N passed, N failed, N skipped" that CI reads (scripts/test-summary.mjs).
// Chromium is checked first: without it the browser, e2e and some node tests cannot run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { childEnv, ensureNode } from './node.mjs';
import { chromiumPath, needsChromium, summarize } from './test-summary.mjs';

const extra = process.argv.slice(2);
if (needsChromium(extra) && !existsSync(chromiumPath())) {
  const where = process.env.CHROMIUM_PATH === undefined ? '/usr/bin/chromium' : `CHROMIUM_PATH (${process.env.CHROMIUM_PATH})`;
  console.error(`tokengate: the browser and e2e tests need Chromium, and there is none at ${where}.`);
  console.error('  Get it with `apt-get install -y chromium` (Debian, about 20 s), or set CHROMIUM_PATH to a Chromium binary.');
  console.error('  Tests that need no browser: npm test -- --project workerd --project worker --project worker-oidc');
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

const node = ensureNode();
const env = childEnv(node);
const run = (args) => spawnSync(node, args, { stdio: 'inherit', env }).status ?? 1;

let failedSteps = 0;
console.log('» build');
if (run(['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json']) !== 0) failedSteps++;
console.log('» typecheck tests, the Worker and the sandbox');
if (run(['node_modules/typescript/bin/tsc', '-p', 'tsconfig.test.json']) !== 0) failedSteps++;
if (run(['node_modules/typescript/bin/tsc', '-p', 'worker/tsconfig.json']) !== 0) failedSteps++;
if (run(['node_modules/typescript/bin/tsc', '-p', 'sandbox/tsconfig.json']) !== 0) failedSteps++;
if (run(['node_modules/typescript/bin/tsc', '-p', 'web-demo/tsconfig.json']) !== 0) failedSteps++;

mkdirSync('test-results', { recursive: true });
const report = 'test-results/vitest.json';
rmSync(report, { force: true });
// Console output only for failing tests: the Worker logs a JSON line per request.
const status = run(['node_modules/vitest/vitest.mjs', 'run', '--silent=passed-only', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]);

const { failed, line } = summarize(existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) : undefined, { failedSteps, status });
console.log(line);
process.exit(failed === 0 ? 0 : 1);
