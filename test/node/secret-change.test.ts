import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A token is served only while the credential it was minted from is the configured one: the Worker
// as `npm start` runs it, stopped and started again on the same local state (KV and Durable Objects)
// with another INSTABOX_CLIENT_SECRET, as after an edit of `.dev.vars` or a `wrangler secret put`.

interface Wrangler {
  url: string;
  log(): string;
  stop(): Promise<void>;
  cleanup(): void;
}
interface StartOptions {
  node: string;
  env: NodeJS.ProcessEnv;
  config?: string;
  persistTo?: string;
  envFile?: string;
  vars?: Record<string, string>;
  readyTimeoutMs: number;
}
const load = <T>(path: string): Promise<T> => import(/* @vite-ignore */ new URL(path, import.meta.url).href) as Promise<T>;

const WRONG = 'instabox-wrong-secret-after-an-edit';
const ORIGIN = 'http://127.0.0.1:8787';

describe('a changed secret takes effect on the next call', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-secret-change-'));
  const persistTo = join(dir, 'worker-state');
  const running: Wrangler[] = [];
  let start: (secrets: Record<string, string>) => Promise<Wrangler>;
  let right: Record<string, string>;

  beforeAll(async () => {
    const { startWrangler } = await load<{ startWrangler(options: StartOptions): Promise<Wrangler> }>('../../scripts/soak-engine.mjs');
    const { ensureNode, childEnv } = await load<{ ensureNode(): string; childEnv(node: string): NodeJS.ProcessEnv }>('../../scripts/node.mjs');
    const { devSecrets } = await load<{ devSecrets(): Record<string, string> }>('../../sandbox/dev-secrets.mjs');
    right = devSecrets();
    const node = ensureNode();
    const sandbox = await startWrangler({ node, env: childEnv(node), config: 'sandbox/wrangler.toml', persistTo: join(dir, 'sandbox-state'), readyTimeoutMs: 60_000 });
    running.push(sandbox);
    let files = 0;
    start = async (secrets) => {
      const envFile = join(dir, `worker-${files++}.env`);
      writeFileSync(envFile, Object.entries(secrets).map(([name, value]) => `${name}=${JSON.stringify(value)}\n`).join(''), { mode: 0o600 });
      const worker = await startWrangler({ node, env: childEnv(node), persistTo, envFile, vars: { PUBLIC_ORIGIN: ORIGIN, ALLOWED_ORIGINS: ORIGIN, SANDBOX_ORIGIN: sandbox.url }, readyTimeoutMs: 60_000 });
      running.push(worker);
      return worker;
    };
  }, 90_000);
  afterAll(async () => {
    for (const wrangler of running) {
      await wrangler.stop();
      wrangler.cleanup();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const orders = (worker: Wrangler): Promise<Response> => fetch(`${worker.url}/api/instabox/v2/orders`, { headers: { origin: ORIGIN, 'x-tokengate-csrf': '1' } });

  it('a wrong secret after a restart is refused at once, not after the cached token expires; the log names the secret', async () => {
    const first = await start(right);
    expect((await orders(first)).status).toBe(200);
    await first.stop();

    const wrong = await start({ ...right, INSTABOX_CLIENT_SECRET: WRONG });
    const refused = await orders(wrong);
    expect(refused.status).toBe(503);
    const body = (await refused.json()) as { error: string; reason: string };
    expect(body).toMatchObject({ error: 'token_unavailable', reason: 'invalid_client' });
    await wrong.stop();
    const lines = wrong.log().split('\n').filter((line) => line.includes('"at":"credential"'));
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(lines[0]!.slice(lines[0]!.indexOf('{')))).toMatchObject({ vendor: 'instabox', outcome: 'invalid_client', check: 'INSTABOX_CLIENT_SECRET' });
    expect(wrong.log()).not.toContain(WRONG);

    // The right secret again: served at once, with no reset.
    const fixed = await start(right);
    expect((await orders(fixed)).status).toBe(200);
  }, 120_000);
});
