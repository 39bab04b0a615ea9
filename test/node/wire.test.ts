import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floodUntilLimited } from '../helpers/flood.js';
import { startSnapshotStack, type Stack } from '../helpers/stack.js';

// Black-box, on the wire: `npm start`'s two Workers (wrangler dev --local, a snapshot of the tree) seen
// by an HTTP client as an attacker would (docs/security.md rows 20 and 24). 127.0.0.1 only; bounded.

const TOTAL = 8 * 1024 * 1024;
const CHUNK = 64 * 1024;
/** Between chunks: the whole body takes about 128 × 4 ms ≈ 0.5 s to send. */
const PACE_MS = 4;

/** Resident memory (bytes) of the workerd processes in process group `group` (wrangler's, for one Worker). */
function workerdRss(group: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …: comm may hold spaces, so read after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (comm !== 'workerd' || pgrp !== group) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      total += Number(rss ?? 0) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/**
 * POSTs up to 8 MB chunked (no Content-Length), paced, and stops sending when the answer arrives. Answers its status and how many bytes had been written by then.
 */
function streamUpload(url: string, headers: Record<string, string>): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const request = http.request(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (response) => {
      answered = true;
      const status = response.statusCode ?? 0;
      response.resume();
      response.on('end', () => {
        request.destroy();
        resolve({ status, sent });
      });
    });
    request.setTimeout(30_000, () => request.destroy(new Error('no answer within 30 s')));
    request.on('error', (error) => (answered ? undefined : reject(error)));
    // Paced, as a slow client would send it: loopback and the dev proxy would otherwise take 8 MB at once.
    const chunk = Buffer.alloc(CHUNK, 0x61);
    const pump = (): void => {
      if (answered) return;
      if (sent >= TOTAL) {
        request.end();
        return;
      }
      sent += CHUNK;
      if (request.write(chunk)) setTimeout(pump, PACE_MS);
      else request.once('drain', () => setTimeout(pump, PACE_MS));
    };
    pump();
  });
}

describe('the Worker on the wire (wrangler dev)', () => {
  let stack: Stack | undefined;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ stack, close } = await startSnapshotStack());
  }, 120_000);

  afterAll(async () => {
    await close?.();
  });

  it('an 8 MB chunked body to /api, /token and /link gets 413 before it has been sent whole, and memory stays flat (row 20)', async () => {
    const origin = 'http://127.0.0.1:8787';
    const targets = [
      ['/api/echo/headers', 'application/octet-stream'],
      ['/token/instacart', 'application/x-www-form-urlencoded'],
      ['/link/instacart/authorize', 'application/json'],
    ] as const;
    // Warm each route up with a small body first, so what is measured below is the large bodies alone.
    for (const [path, type] of targets) {
      const answer = await fetch(`${stack!.url}${path}`, { method: 'POST', headers: { origin, 'x-tokengate-csrf': '1', 'content-type': type }, body: '{}' });
      await answer.body?.cancel();
    }
    const before = workerdRss(stack!.pid);
    expect(before).toBeGreaterThan(0);
    for (const [path, type] of targets) {
      const { status, sent } = await streamUpload(`${stack!.url}${path}`, { origin, 'x-tokengate-csrf': '1', 'content-type': type });
      expect(status, path).toBe(413);
      // The Worker answered at its cap (1 MiB at most), long before the last of the 8 MB was sent.
      expect(sent, path).toBeLessThan(TOTAL / 2);
    }
    // Three 8 MB bodies later, workerd holds less than one of them more (buffered whole, each adds its size).
    expect(workerdRss(stack!.pid) - before).toBeLessThan(TOTAL);
  }, 60_000);

  it('a cross-site navigation to /link/*/start mints no session (row 24)', async () => {
    const answer = await fetch(`${stack!.url}/link/instacart/start`, { redirect: 'manual', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/?link_error=ERR_CROSS_SITE_START&vendor=instacart');
    expect(answer.headers.getSetCookie()).toEqual([]);
    const sameOrigin = await fetch(`${stack!.url}/link/instacart/start`, { redirect: 'manual', headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' } });
    expect(sameOrigin.status).toBe(303);
    expect(sameOrigin.headers.getSetCookie().some((cookie) => cookie.startsWith('__Host-tg_link='))).toBe(true);
  });

  it('under wrangler dev one address meets its own limit, and another address is still served (rows 19, 32)', async () => {
    // wrangler.toml's development budget: 60 linking calls of one vendor a minute per caller, none shared.
    const start = (ip: string): Promise<Response> => fetch(`${stack!.url}/link/oauth2/start`, { redirect: 'manual', headers: { 'cf-connecting-ip': ip } });
    const { limited, passed } = await floodUntilLimited(100, async () => {
      const answer = await start('198.18.7.1');
      await answer.body?.cancel();
      return answer;
    });
    expect(limited?.status).toBe(429);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(passed.length).toBeLessThanOrEqual(60);
    expect(passed.every((status) => status === 303), passed.join(' ')).toBe(true);
    const other = await start('198.18.7.2');
    await other.body?.cancel();
    expect(other.status).toBe(303);
  }, 60_000);
});
