import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../../scripts/free-port.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `npm start`'s stack (the Worker with the web demo, and the vendor sandbox) on free ports, with fresh local state. */
export interface Stack {
  origin: string;
  /** The vendor sandbox's own origin. */
  sandboxOrigin: string;
  /** Everything wrangler printed: the log the leak scans read. */
  log: () => string;
  stop(): Promise<void>;
}

export { freePort };

/** Options of {@link startStack}. */
export interface StackOptions {
  /** The Worker's port (default: a free one). */
  port?: number;
  /** Extra `wrangler dev` arguments for the Worker, after npm start's own (`--var NAME:value` overrides). */
  workerArgs?: string[];
  /** Where the Worker answers its health check (default `/healthz`; under BASE_PATH, `<base>/healthz`). */
  healthPath?: string;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const port = options.port ?? (await freePort());
  const sandboxPort = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'tokengate-e2e-'));
  const root = new URL('../../', import.meta.url).pathname;
  const child: ChildProcess = spawn(process.execPath, ['scripts/start.mjs', '--persist-to', state, ...(options.workerArgs ?? [])], {
    cwd: root,
    env: { ...process.env, PORT: String(port), SANDBOX_PORT: String(sandboxPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += String(chunk)));
  child.stderr?.on('data', (chunk) => (output += String(chunk)));
  const origin = `http://127.0.0.1:${port}`;
  const sandboxOrigin = `http://127.0.0.1:${sandboxPort}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    rmSync(state, { recursive: true, force: true });
  };
  // Bounded wait for both Workers' first healthy answer: 150 tries, 500 ms apart (two `wrangler dev`
  // cold starts on a loaded 2-core machine can take most of a minute).
  for (let attempt = 0; attempt < 150; attempt++) {
    if (child.exitCode !== null) break;
    try {
      const [worker, sandbox] = await Promise.all([fetch(`${origin}${options.healthPath ?? '/healthz'}`), fetch(`${sandboxOrigin}/healthz`)]);
      if (worker.ok && sandbox.ok) return { origin, sandboxOrigin, log: () => output, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await stop();
  throw new Error(`npm start did not become healthy on ${origin}:\n${output.slice(-2000)}`);
}
