import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { needsChromium, summarize, type VitestReport } from '../../scripts/test-summary.mjs';

// `npm test` (scripts/test.mjs): it checks for Chromium before anything else and says how to get it,
// and its closing line counts skipped tests as skipped ("N passed, N failed, N skipped", what CI reads).

const root = new URL('../../', import.meta.url).pathname;

describe('npm test', () => {
  it('without Chromium stops first and says how to get it', () => {
    const started = Date.now();
    const run = spawnSync(process.execPath, ['scripts/test.mjs'], { cwd: root, env: { ...process.env, CHROMIUM_PATH: '/nowhere/chromium' }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('there is none at CHROMIUM_PATH (/nowhere/chromium)');
    expect(run.stderr).toContain('apt-get install -y chromium');
    expect(run.stdout.trim().split('\n').at(-1)).toBe('0 passed, 1 failed, 0 skipped');
    // Before the build and the type checks: nothing else ran.
    expect(run.stdout).not.toContain('» build');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('needs Chromium unless only the workerd projects are asked for', () => {
    expect(needsChromium([])).toBe(true);
    expect(needsChromium(['--project', 'e2e'])).toBe(true);
    expect(needsChromium(['--project', 'node'])).toBe(true);
    expect(needsChromium(['--project', 'workerd', '--project=worker', '--project', 'worker-oidc'])).toBe(false);
  });

  it('reports skipped tests as skipped in its closing line, from a real vitest report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokengate-report-'));
    try {
      const report = join(dir, 'vitest.json');
      // One test of this file runs, the other four are skipped by the name filter.
      const run = spawnSync(
        process.execPath,
        ['node_modules/vitest/vitest.mjs', 'run', '--project', 'node', 'test/node/errors-doc.test.ts', '-t', 'says which code is missing', '--reporter=json', `--outputFile.json=${report}`],
        { cwd: root, encoding: 'utf8', timeout: 60_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      const summary = summarize(JSON.parse(readFileSync(report, 'utf8')) as VitestReport, { failedSteps: 0, status: 0 });
      expect(summary.line).toBe('1 passed, 0 failed, 4 skipped');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('counts a failed step and a missing report as failures', () => {
    expect(summarize(undefined, { failedSteps: 0, status: 1 }).line).toBe('0 passed, 1 failed, 0 skipped');
    const report: VitestReport = { numPassedTests: 3, numFailedTests: 0, numPendingTests: 2, numTodoTests: 1, testResults: [{ status: 'failed', assertionResults: [] }] };
    expect(summarize(report, { failedSteps: 1, status: 1 }).line).toBe('3 passed, 2 failed, 3 skipped');
  });

  it('counts a file whose set-up failed (its tests skipped) as a failure, and a file with failed tests by its tests', () => {
    const report: VitestReport = {
      numPassedTests: 1,
      numFailedTests: 1,
      numPendingTests: 5,
      testResults: [
        { status: 'failed', assertionResults: Array.from({ length: 5 }, () => ({ status: 'skipped' })) },
        { status: 'failed', assertionResults: [{ status: 'passed' }, { status: 'failed' }] },
      ],
    };
    expect(summarize(report, { failedSteps: 0, status: 1 }).line).toBe('1 passed, 2 failed, 5 skipped');
  });
});
