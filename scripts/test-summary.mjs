// The closing line of `npm test` that CI reads: "N passed, N failed, N skipped", from vitest's JSON
// report. A skipped test (`it.skip`, a README block marked skip, or the tests of a suite whose set-up
// failed) is always counted and named as skipped, never left out of the sum.

/**
 * @param {{ numPassedTests: number, numFailedTests: number, numPendingTests: number, numTodoTests?: number,
 *   testResults: Array<{ status: string, assertionResults: Array<{ status: string }> }> } | undefined} report vitest's JSON report, if it was written
 * @param {{ failedSteps: number, status: number }} run steps that failed before vitest (build, type checks) and vitest's exit status
 * @returns {{ passed: number, failed: number, skipped: number, line: string }}
 */
export function summarize(report, run) {
  let passed = 0;
  let failed = run.failedSteps;
  let skipped = 0;
  if (report === undefined) {
    failed++;
  } else {
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + (report.numTodoTests ?? 0);
    // A file that failed with no failed test of its own (it did not load, or its set-up failed and its
    // tests were skipped) counts as one failure: its skipped tests must not make a red run look green.
    failed += report.testResults.filter((file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed')).length;
  }
  if (run.status !== 0 && failed === 0) failed = 1;
  return { passed, failed, skipped, line: `${passed} passed, ${failed} failed, ${skipped} skipped` };
}

/** Where the browser tests' Chromium is (CHROMIUM_PATH, or Debian's), as test/helpers/chromium.ts has it. */
export const chromiumPath = (env = process.env) => env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The projects that need no Chromium; any other (or none named: all) needs it. */
const WITHOUT_CHROMIUM = new Set(['workerd', 'worker', 'worker-oidc']);

/** Whether vitest run with `args` needs Chromium (node has a Playwright test, browser and e2e run in it). */
export function needsChromium(args) {
  const projects = args.flatMap((arg, i) => (arg === '--project' ? [args[i + 1] ?? ''] : arg.startsWith('--project=') ? [arg.slice('--project='.length)] : []));
  return projects.length === 0 || projects.some((project) => !WITHOUT_CHROMIUM.has(project));
}
