import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScript, startSnapshotStack, type Stack } from '../helpers/stack.js';

// The reliability soak's short version (the full one is `npm run soak`): `wrangler dev --local` on a
// snapshot of the tree, 1,500 proxied GETs at concurrency 50 from 1,000 caller IPs while the sandbox
// injects a 5xx, a 429 with Retry-After, a slow answer, truncated JSON, an HTML page and revocations.
// Same engine and same must-be-0 figures as the full soak. 127.0.0.1 only; bounded (wrangler start-up
// 60 s, each request 20 s, the load 40 s).

interface Needle {
  label: string;
  value: string;
}
interface SoakResult {
  requests: number;
  sent: number;
  answered: number;
  lost: number;
  data: number;
  documentedErrors: number;
  wrong: number;
  wrongSamples: string[];
  duplicated: number;
  echo: { answers: number; upstreamCalls: number | null };
  refusedPolls: number;
  answerLeaks: number;
  tokenRequests: Record<string, number>;
  minimumTokenRequests: Record<string, number>;
  codes: { vendor: string; kind: string; code: string; count: number }[];
  events: { vendor: string; fault: string; state: string }[];
  needles: Needle[];
  attack: {
    flowLimit: number;
    apiLimit: number;
    starts: Flood & { vendorCalls: number; windows: number };
    tokens: Flood & { vendorCalls: number; windows: number };
    refused: Flood & { tokenRequests: number };
    alternating: Flood & { tokenRequests: number; windows: number };
    callbacks: Flood & { tokenRequests: number };
    spenders: Flood & { newcomerRefused: number };
    vendorWait: Flood & { firstStatus: number; reachedDuringWait: number };
    wrongKeys: Flood & { windows: number };
  };
}
interface Flood {
  sent: number;
  accepted: number;
  limited: number;
  other: number;
}
interface LogScan {
  lines: number;
  leaks: number;
  labels: string[];
  unhandled: number;
}
interface Engine {
  SHORT_SCHEDULE: unknown[];
  runSoak(options: { base: string; sandbox: string; requests: number; concurrency: number; schedule: unknown[]; requestTimeoutMs: number; deadlineMs: number }): Promise<SoakResult>;
  scanLog(log: string, needles: Needle[]): LogScan;
  mustBeZero(result: SoakResult, scan: LogScan, reloads: number): Record<string, number>;
  formatReport(result: SoakResult, scan: LogScan, reloads: number, title: string): string;
}

describe('soak (short): proxied load through wrangler dev under sandbox faults', () => {
  let engine: Engine;
  let close: (() => Promise<void>) | undefined;
  let wrangler: Stack | undefined;
  let result: SoakResult;
  let scan: LogScan;
  let reloads: number;

  beforeAll(async () => {
    engine = await loadScript<Engine>('soak-engine.mjs');
    ({ stack: wrangler, close } = await startSnapshotStack());
    const reloadsBefore = wrangler.reloads();
    result = await engine.runSoak({ base: wrangler.url, sandbox: wrangler.sandboxUrl, requests: 1500, concurrency: 50, schedule: engine.SHORT_SCHEDULE, requestTimeoutMs: 20_000, deadlineMs: 40_000 });
    reloads = wrangler.reloads() - reloadsBefore;
    await wrangler.stop();
    scan = engine.scanLog(wrangler.log(), result.needles);
  }, 240_000);

  afterAll(async () => {
    await close?.();
  });

  const report = (): string => engine.formatReport(result, scan, reloads, 'soak (short)');

  it('answers every request, each with vendor data or a documented error', () => {
    expect(result.sent, report()).toBe(1500);
    expect(result.answered, report()).toBe(1500);
    expect(result.lost, report()).toBe(0);
    expect(result.wrong, result.wrongSamples.join('\n')).toBe(0);
    expect(result.data + result.documentedErrors).toBe(1500);
    // The faults were felt: the truncated, HTML and 5xx-beyond-retries token answers reach callers as 503s.
    expect(result.codes.some((row) => row.code.startsWith('503 token_unavailable')), report()).toBe(true);
    expect(result.data, report()).toBeGreaterThan(1200);
  });

  it('loses and duplicates nothing: each echo id answered once, one upstream call per echo answer', () => {
    expect(result.duplicated, report()).toBe(0);
    expect(result.echo.upstreamCalls).toBe(result.echo.answers);
  });

  it('every fault event was met, and token requests stay at the minimum', () => {
    expect(result.events.filter((event) => event.state !== 'settled'), report()).toEqual([]);
    for (const endpoint of ['instabox', 'eshopbox', 'instellix', 'shopware', 'instacart', 'echo']) {
      expect(result.tokenRequests[endpoint], `${endpoint}\n${report()}`).toBe(result.minimumTokenRequests[endpoint]);
    }
    expect(result.refusedPolls).toBe(0);
  });

  it('the attack phase: each flood meets its own caller\'s limit; an always-401 upstream costs at most 3 token requests; findings 1, 2 and 4 hold', () => {
    const { attack } = result;
    expect(attack.starts.sent).toBe(300);
    expect(attack.starts.accepted, report()).toBeLessThanOrEqual(attack.flowLimit * attack.starts.windows);
    expect(attack.starts.limited, report()).toBe(300 - attack.starts.accepted);
    expect(attack.tokens.vendorCalls, report()).toBeLessThanOrEqual(attack.flowLimit * attack.tokens.windows);
    expect(attack.tokens.limited, report()).toBeGreaterThan(0);
    expect(attack.refused.tokenRequests, report()).toBeLessThanOrEqual(3);
    expect(attack.refused.accepted, report()).toBeGreaterThanOrEqual(97);
    // Finding 1: the 200/401 alternation, at most one token request per renewal window.
    expect(attack.alternating.tokenRequests, report()).toBeLessThanOrEqual(attack.alternating.windows);
    // Finding 2: refused callbacks spend nothing, nobody's flood shuts a newcomer out, the vendor's 429 holds for all.
    expect(attack.callbacks.accepted, report()).toBe(130);
    expect(attack.spenders.newcomerRefused, report()).toBe(0);
    expect(attack.vendorWait.limited, report()).toBe(20);
    expect(attack.vendorWait.reachedDuringWait, report()).toBe(0);
    // Finding 4: wrong keys meet 429 before they are compared.
    expect(attack.wrongKeys.limited, report()).toBeGreaterThan(0);
    expect(attack.wrongKeys.accepted, report()).toBeLessThanOrEqual(attack.apiLimit * attack.wrongKeys.windows);
  });

  it('no secret and no refresh token in any answer or log line; no unhandled error; no reload mid-run', () => {
    expect(result.needles.length).toBeGreaterThan(10);
    expect(result.answerLeaks, report()).toBe(0);
    expect(scan.lines).toBeGreaterThan(1500);
    expect(scan.leaks, scan.labels.join('; ')).toBe(0);
    expect(scan.unhandled).toBe(0);
    expect(reloads).toBe(0);
    expect(Object.values(engine.mustBeZero(result, scan, reloads)).every((value) => value === 0), report()).toBe(true);
  });
});
