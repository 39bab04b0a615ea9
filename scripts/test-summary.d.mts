export interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  testResults: Array<{ status: string; assertionResults: Array<{ status: string }> }>;
}
/** The closing line of `npm test`: "N passed, N failed, N skipped". */
export function summarize(report: VitestReport | undefined, run: { failedSteps: number; status: number }): { passed: number; failed: number; skipped: number; line: string };
/** Where the browser tests' Chromium is (CHROMIUM_PATH, or Debian's). */
export function chromiumPath(env?: Record<string, string | undefined>): string;
/** Whether vitest run with `args` needs Chromium. */
export function needsChromium(args: string[]): boolean;
