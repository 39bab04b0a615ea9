import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floodUntilLimited } from '../helpers/flood.js';
import { startSnapshotStack, type Stack } from '../helpers/stack.js';

// Black-box, on the wire: `npm start`'s two Workers (wrangler dev --local, a snapshot of the tree) seen
// by an HTTP client as an attacker would (docs/security.md rows 20 and 24). 127.0.0.1 only; bounded.

const TOTAL = 8 * 1024 * 1024;
const CHUNK = 64 * 1024;
/** Between chunks: 1 MiB takes about 16 × 4 ms to send. */
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
 * The cap a route announces: a POST that declares an 8 MB Content-Length and sends no byte of it is
 * refused from the header alone, with the cap in the message ("… limited to N bytes").
 */
function capOf(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(TOTAL) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (data: string) => (text += data));
      response.on('end', () => {
        request.destroy();
        const cap = /limited to (\d+) bytes/.exec(text)?.[1];
        if (cap === undefined) reject(new Error(`${url} named no cap (${response.statusCode}): ${text}`));
        else resolve(Number(cap));
      });
    });
    request.setTimeout(30_000, () => request.destroy(new Error('no answer within 30 s')));
    request.on('error', reject);
    request.flushHeaders();
  });
}

/**
 * Starts an 8 MB chunked POST (no Content-Length), paced, and sends one byte past the route's `cap`,
 * then waits with the body still open. Answers the status and how many bytes had been sent.
 *
 * Not one byte more: the Worker answers as soon as its count passes the cap, and bytes it never reads
 * make the runtime close the connection with unread data, a reset (no lingering close, RFC 9112
 * §9.6). A reset can destroy the answer before it is read, at the client or in `wrangler dev`'s proxy,
 * whose forwarding of the POST then fails ("Network connection lost", a 500 or a hang-up): under load
 * the answer is slower, more bytes are in flight, and the test flaked. With the body open and every
 * byte read, the answer cannot be lost, and it arriving before the body's end is what proves the count
 * is made while the body streams: a Worker that buffered would wait for an end that never comes.
 */
function streamUpload(url: string, headers: Record<string, string>, cap: number): Promise<{ status: number; sent: number }> {
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
    request.setTimeout(30_000, () => request.destroy(new Error(`no answer within 30 s after ${sent} bytes`)));
    request.on('error', (error) => (answered ? undefined : reject(error)));
    // Paced, as a slow client would send it: loopback and the dev proxy would otherwise take it at once.
    const pump = (): void => {
      if (answered || sent > cap) return;
      const size = Math.min(CHUNK, cap + 1 - sent);
      sent += size;
      if (request.write(Buffer.alloc(size, 0x61))) setTimeout(pump, PACE_MS);
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
      const headers = { origin, 'x-tokengate-csrf': '1', 'content-type': type };
      const cap = await capOf(`${stack!.url}${path}`, headers);
      expect(cap, path).toBeLessThanOrEqual(1024 * 1024);
      const { status, sent } = await streamUpload(`${stack!.url}${path}`, headers, cap);
      expect(status, path).toBe(413);
      // The Worker answered one byte past its cap (1 MiB at most), with the rest of the 8 MB unsent.
      expect(sent, path).toBe(cap + 1);
    }
    // Three 8 MB bodies later, workerd holds less than one of them more (buffered whole, each adds its size).
    expect(workerdRss(stack!.pid) - before).toBeLessThan(TOTAL);
  }, 60_000);

  it('injected faults, 413s and a client gone mid-body leave no uncaught error and no "unhandled" 500 in the console (issue 21)', async () => {
    const from = stack!.log().length;
    const origin = 'http://127.0.0.1:8787';
    const browserHeaders = { origin, 'x-tokengate-csrf': '1', 'content-type': 'application/octet-stream' };
    const arm = (vendor: string, fault: string): Promise<Response> =>
      fetch(`${stack!.sandboxUrl}/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vendor, fault, count: 1 }) });
    // A 503 and an HTML page at the token endpoint, each answered before the sandbox read the request body.
    for (const [vendor, fault, path] of [['instabox', '5xx', '/api/instabox/v2/orders'], ['instellix', 'html', '/api/instellix/api/v1/shipments']] as const) {
      expect((await arm(vendor, fault)).status).toBe(204);
      await (await fetch(`${stack!.url}${path}`)).text();
    }
    // A 413 by Content-Length and one counted while streaming.
    const declared = await new Promise<number>((resolve, reject) => {
      const request = http.request(`${stack!.url}/api/echo/headers`, { method: 'POST', headers: { ...browserHeaders, 'content-length': String(2 * 1024 * 1024) } }, (response) => {
        response.resume();
        request.destroy();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.write(Buffer.alloc(64 * 1024, 0x61));
    });
    expect(declared).toBe(413);
    expect((await streamUpload(`${stack!.url}/api/echo/headers`, browserHeaders, await capOf(`${stack!.url}/api/echo/headers`, browserHeaders))).status).toBe(413);
    // A client that sends part of a chunked body and goes away.
    await new Promise<void>((resolve) => {
      const request = http.request(`${stack!.url}/api/echo/headers`, { method: 'POST', headers: { ...browserHeaders, 'transfer-encoding': 'chunked' } });
      request.on('error', () => undefined);
      request.write(Buffer.alloc(1024));
      setTimeout(() => {
        request.destroy();
        resolve();
      }, 300);
    });
    // The console gets its lines a moment after the answers; a healthy answer after that closes the window.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await fetch(`${stack!.url}/healthz`)).status).toBe(200);
    const lines = stack!.log().slice(from).split('\n');
    expect(lines.filter((line) => /Uncaught|"at":"unhandled"/.test(line))).toEqual([]);
  }, 60_000);

  it('a public Host on the local sandbox’s Worker gets the production behaviour: /status and POST /reset need the key (row 27)', async () => {
    const ask = (path: string, method: string, host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const request = http.request(`${stack!.url}${path}`, { method, headers: { host, 'content-type': 'application/json' } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
        request.end(method === 'POST' ? '{}' : undefined);
      });
    expect(await ask('/status', 'GET', 'tokengate.acme.workers.dev')).toBe(401);
    expect(await ask('/reset/instabox', 'POST', 'tokengate.acme.workers.dev')).toBe(401);
    // The same requests on the loopback host: the local sandbox's demo panel and its reset.
    expect(await ask('/status', 'GET', new URL(stack!.url).host)).toBe(200);
    expect(await ask('/reset/instabox', 'POST', new URL(stack!.url).host)).toBe(200);
  });

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
