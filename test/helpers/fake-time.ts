/** Fake time for token sources: `sleep` advances the clock instead of waiting, and records each wait. */
export function fakeTime(start = 1_000_000): {
  clock: { now: number; waits: number[] };
  now: () => number;
  sleep: (ms: number) => Promise<void>;
} {
  const clock = { now: start, waits: [] as number[] };
  return {
    clock,
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.waits.push(ms);
      clock.now += ms;
    },
  };
}
