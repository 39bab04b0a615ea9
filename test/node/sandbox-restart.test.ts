import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The vendor sandbox as `npm start` runs it, its own `wrangler dev`, stopped and started again on the
// same local state: what it knew (tokens, revocations, armed faults, counters) is still there, as its
// Durable Object keeps it in SQLite storage. Then the cross-site rule of its controls, on the wire.

interface Wrangler {
  url: string;
  stop(): Promise<void>;
  cleanup(): void;
}
const load = <T>(path: string): Promise<T> => import(/* @vite-ignore */ new URL(path, import.meta.url).href) as Promise<T>;
const credentials = JSON.parse(readFileSync(new URL('../../sandbox/credentials.json', import.meta.url), 'utf8')) as Record<string, Record<string, string>>;

async function startSandbox(persistTo: string): Promise<Wrangler> {
  const { startWrangler } = await load<{ startWrangler(options: object): Promise<Wrangler> }>('../../scripts/soak-engine.mjs');
  const { ensureNode, childEnv } = await load<{ ensureNode(): string; childEnv(node: string): NodeJS.ProcessEnv }>('../../scripts/node.mjs');
  const node = ensureNode();
  return startWrangler({ node, env: childEnv(node), config: 'sandbox/wrangler.toml', persistTo, readyTimeoutMs: 60_000 });
}

const form = (fields: Record<string, string>): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
const control = (body: unknown, type = 'application/json'): RequestInit => ({ method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });
const stats = async (base: string): Promise<{ tokenRequests: Record<string, number> }> => (await fetch(`${base}/_stats`)).json() as never;

describe('the sandbox Worker keeps its state across a restart', () => {
  const persist = mkdtempSync(join(tmpdir(), 'tokengate-sandbox-state-'));
  const running: Wrangler[] = [];
  afterAll(async () => {
    for (const sandbox of running) {
      await sandbox.stop();
      sandbox.cleanup();
    }
    rmSync(persist, { recursive: true, force: true });
  });

  it('tokens, a revocation, an armed fault and the counters survive stopping and starting it', async () => {
    const first = await startSandbox(persist);
    running.push(first);
    const instabox = credentials['instabox']!;
    const issued = (await (await fetch(`${first.url}/instabox/v1/token`, form({ grant_type: 'client_credentials', client_id: instabox['clientId']!, client_secret: instabox['clientSecret']! }))).json()) as { token: string };
    expect((await fetch(`${first.url}/_faults`, control({ vendor: 'eshopbox', fault: 'revoke' }))).status).toBe(204);
    expect((await fetch(`${first.url}/_faults`, control({ vendor: 'instellix', fault: 'html', count: 2 }))).status).toBe(204);
    await first.stop();

    const second = await startSandbox(persist);
    running.push(second);
    // The token issued before the restart still opens the API; the counter still says one request.
    expect((await fetch(`${second.url}/instabox/v2/orders`, { headers: { authorization: `Bearer ${issued.token}` } })).status).toBe(200);
    expect((await stats(second.url)).tokenRequests['instabox']).toBe(1);
    // The revoked Eshopbox app refresh token stays revoked (a fresh sandbox would accept it).
    const eshopbox = credentials['eshopbox']!;
    const refresh = form({ grant_type: 'refresh_token', client_id: eshopbox['clientId']!, client_secret: eshopbox['clientSecret']!, refresh_token: eshopbox['refreshToken']! });
    expect((await fetch(`${second.url}/eshopbox/oauth/token`, refresh)).status).not.toBe(200);
    // The armed fault: two HTML answers are still waiting for instellix.
    const instellix = credentials['instellix']!;
    const basic = { authorization: `Basic ${btoa(`${instellix['clientId']}:${instellix['clientSecret']}`)}` };
    const poll = (): Promise<Response> => fetch(`${second.url}/instellix/acme/oauth2/token`, { method: 'POST', headers: { ...basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect((await poll()).headers.get('content-type')).toMatch(/text\/html/);

    // A cross-site page can send only "simple" requests without a preflight: a no-cors POST with a
    // text/plain body. It is refused and changes nothing.
    const forged = await fetch(`${second.url}/_faults`, { ...control({ vendor: 'instabox', fault: 'revoke' }, 'text/plain;charset=UTF-8'), headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://attacker.example' } });
    expect(forged.status).toBe(415);
    expect(forged.headers.get('access-control-allow-origin')).toBeNull();
    expect((await fetch(`${second.url}/_reset`, control({}, 'text/plain'))).status).toBe(415);
    expect((await fetch(`${second.url}/instabox/v2/orders`, { headers: { authorization: `Bearer ${issued.token}` } })).status).toBe(200);

    // Reset means reset: everything is forgotten and the app refresh token works again.
    expect((await fetch(`${second.url}/_reset`, control({}))).status).toBe(204);
    expect((await fetch(`${second.url}/eshopbox/oauth/token`, refresh)).status).toBe(200);
    expect((await fetch(`${second.url}/instabox/v2/orders`, { headers: { authorization: `Bearer ${issued.token}` } })).status).toBe(401);
  }, 120_000);
});
