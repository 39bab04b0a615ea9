// The README's test command: builds the package, runs every vitest project (Node, Chromium, workerd)
// and ends with the plain line "N passed, N failed" that CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { childEnv, ensureNode } from './node.mjs';

const node = ensureNode();
const env = childEnv(node);
const run = (args) => spawnSync(node, args, { stdio: 'inherit', env }).status ?? 1;

if (!process.env.CHROMIUM_PATH && !existsSync('/usr/bin/chromium')) {
  console.error('tokengate: the browser tests need Chromium: apt-get install -y chromium (or set CHROMIUM_PATH)');
}

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
const extra = process.argv.slice(2);
// Console output only for failing tests: the Worker logs a JSON line per request.
const status = run(['node_modules/vitest/vitest.mjs', 'run', '--silent=passed-only', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]);

let passed = 0;
let failed = failedSteps;
if (existsSync(report)) {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  // A suite that failed to load counts as a failure even when it reported no test.
  failed += result.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length;
} else {
  failed++;
}
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
