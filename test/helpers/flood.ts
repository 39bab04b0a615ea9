/**
 * Cloudflare's Rate Limiting binding counts in fixed windows aligned to the clock (`period` 60 s; so
 * does its simulation in workerd, miniflare's `RateLimiterObject`). A flood that crosses a window's
 * end starts counting again, so a test that floods first waits, when fewer than `seconds` of the
 * current window are left, for the next one.
 */
export async function freshRateWindow(seconds = 25, period = 60): Promise<void> {
  const left = period * 1000 - (Date.now() % (period * 1000));
  if (left < seconds * 1000) await new Promise((resolve) => setTimeout(resolve, left + 250));
}

/**
 * Sends `send(i)` in batches of `batch` at once until an answer is 429, at most `bound` calls.
 * Answers the first 429 and the statuses of every other answer (those that got through).
 */
export async function floodUntilLimited(bound: number, send: (i: number) => Promise<Response>, batch = 10): Promise<{ limited: Response | undefined; passed: number[] }> {
  await freshRateWindow();
  const passed: number[] = [];
  for (let start = 0; start < bound; start += batch) {
    const answers = await Promise.all(Array.from({ length: Math.min(batch, bound - start) }, (_, k) => send(start + k)));
    for (const answer of answers) if (answer.status !== 429) passed.push(answer.status);
    const limited = answers.find((answer) => answer.status === 429);
    if (limited !== undefined) return { limited, passed };
  }
  return { limited: undefined, passed };
}
