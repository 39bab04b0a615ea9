import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/free-port.mjs';

// `npm start` is one command for two Workers: the Worker with the demo, and the vendor sandbox on its
// own port. Both come up on the ports asked for, and one Ctrl-C (SIGINT to `npm start` alone, as a
// process manager sends it), SIGTERM or SIGHUP stops both, as does the end of its parent.

const root = new URL('../../', import.meta.url).pathname;

const answers = async (url: string): Promise<boolean> => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
};

interface Started {
  worker: string;
  sandbox: string;
  output: () => string;
  exited: Promise<number | null>;
  /** Both Workers answer /healthz. */
  up(): Promise<boolean>;
  /** Both Workers stopped answering within 15 s, and `npm start` (its pid) is gone. */
  stopped(pid: number): Promise<boolean>;
  cleanup(): void;
}

/**
 * Runs `scripts/start.mjs` on free ports, as `npm start` does, or under `parent`, a Node script that
 * starts it as its child (and prints the child's pid), and waits until both Workers answer.
 */
async function start(parent?: string): Promise<Started & { child: ReturnType<typeof spawn>; pid: number }> {
  const [port, sandboxPort] = [await freePort(), await freePort()];
  const state = mkdtempSync(join(tmpdir(), 'tokengate-start-'));
  const args = ['scripts/start.mjs', '--persist-to', state];
  const child = spawn(process.execPath, parent === undefined ? args : ['-e', parent, ...args], {
    cwd: root,
    env: { ...process.env, PORT: String(port), SANDBOX_PORT: String(sandboxPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const worker = `http://127.0.0.1:${port}`;
  const sandbox = `http://127.0.0.1:${sandboxPort}`;
  const started: Started = {
    worker,
    sandbox,
    output: () => output,
    exited,
    up: async () => (await answers(`${worker}/healthz`)) && (await answers(`${sandbox}/healthz`)),
    async stopped(pid) {
      for (let i = 0; i < 30; i++) {
        if (!(await answers(`${worker}/healthz`)) && !(await answers(`${sandbox}/healthz`)) && !alive(pid)) return true;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return false;
    },
    cleanup() {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(state, { recursive: true, force: true });
    },
  };
  let up = false;
  for (let i = 0; i < 120 && !up; i++) {
    up = await started.up();
    if (!up) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  expect(up, output.slice(-2000)).toBe(true);
  const pid = parent === undefined ? child.pid! : Number(/start\.mjs pid (\d+)/.exec(output)?.[1]);
  return { ...started, child, pid };
}

/** Whether a process is still there (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('serves the Worker on PORT and the sandbox on SANDBOX_PORT, and SIGINT stops both', async () => {
    const started = await start();
    try {
      expect(started.output()).toContain(`tokengate is running on ${started.worker}, the vendor sandbox on ${started.sandbox}`);
      // The Worker reaches the sandbox on its own origin, as it would a vendor.
      const status = (await (await fetch(`${started.worker}/status`)).json()) as { sandbox: { origin: string } };
      expect(status.sandbox.origin).toBe(started.sandbox);

      started.child.kill('SIGINT');
      expect(await started.stopped(started.pid), started.output().slice(-2000)).toBe(true);
    } finally {
      started.cleanup();
    }
  }, 90_000);

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} (an IDE's stop button, \`timeout\`, a closed terminal) stops both`, async () => {
      const started = await start();
      try {
        started.child.kill(signal);
        expect(await started.stopped(started.pid), started.output().slice(-2000)).toBe(true);
      } finally {
        started.cleanup();
      }
    }, 90_000);
  }

  it('never outlives its parent: a parent that ends without passing the signal on (npm on SIGTERM) takes both Workers down', async () => {
    // A parent like npm: starts it, passes no signal on, and ends on SIGTERM (Node's default).
    const parent = `const c = require('node:child_process').spawn(process.execPath, process.argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] }); console.log('start.mjs pid ' + c.pid); setInterval(() => {}, 1000);`;
    const started = await start(parent);
    try {
      expect(alive(started.pid)).toBe(true);
      started.child.kill('SIGTERM');
      await started.exited;
      expect(await started.stopped(started.pid), started.output().slice(-2000)).toBe(true);
      expect(started.output()).toContain('the process that started `npm start` ended; stopping both Workers');
    } finally {
      if (alive(started.pid)) process.kill(started.pid, 'SIGKILL');
      started.cleanup();
    }
  }, 90_000);

  it('a port in use is named, with the PORT= to use instead of wrangler\'s --port', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, ['scripts/start.mjs'], { cwd: root, env: { ...process.env, PORT: String(taken), SANDBOX_PORT: String(await freePort()) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stderr.on('data', (chunk) => (output += String(chunk)));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(output).toContain(`port ${taken} on 127.0.0.1 is in use`);
      expect(output).toContain('start with PORT=<another port> npm start');
      expect(output).not.toContain('--port');
    } finally {
      server.close();
    }
  }, 30_000);
});
