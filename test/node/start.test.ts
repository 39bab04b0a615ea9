import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/free-port.mjs';

// `npm start` is one command for two Workers: the Worker with the demo, and the vendor sandbox on its
// own port. Both come up on the ports asked for, and one Ctrl-C (SIGINT to `npm start` alone, as a
// process manager sends it) stops both.

const root = new URL('../../', import.meta.url).pathname;

const answers = async (url: string): Promise<boolean> => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
};

describe('npm start', () => {
  it('serves the Worker on PORT and the sandbox on SANDBOX_PORT, and SIGINT stops both', async () => {
    const [port, sandboxPort] = [await freePort(), await freePort()];
    const state = mkdtempSync(join(tmpdir(), 'tokengate-start-'));
    const child = spawn(process.execPath, ['scripts/start.mjs', '--persist-to', state], {
      cwd: root,
      env: { ...process.env, PORT: String(port), SANDBOX_PORT: String(sandboxPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const worker = `http://127.0.0.1:${port}`;
      const sandbox = `http://127.0.0.1:${sandboxPort}`;
      let up = false;
      for (let i = 0; i < 120 && !up; i++) {
        up = (await answers(`${worker}/healthz`)) && (await answers(`${sandbox}/healthz`));
        if (!up) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(up, output.slice(-2000)).toBe(true);
      expect(output).toContain(`tokengate is running on ${worker}, the vendor sandbox on ${sandbox}`);
      // The Worker reaches the sandbox on its own origin, as it would a vendor.
      const status = (await (await fetch(`${worker}/status`)).json()) as { sandbox: { origin: string } };
      expect(status.sandbox.origin).toBe(sandbox);

      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);
      expect(code).not.toBe('timeout');
      expect(await answers(`${worker}/healthz`)).toBe(false);
      expect(await answers(`${sandbox}/healthz`)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(state, { recursive: true, force: true });
    }
  }, 90_000);
});
