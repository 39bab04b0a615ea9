import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// scripts/node.mjs installs a Node 22 when the machine's is older. The real install downloads ~185 MB,
// so these runs ask for a Node 99 (TOKENGATE_NODE_MAJOR) and install it with a fake installer that
// behaves like npm where it matters: it prints to stdout, takes a while, writes the binary before the
// .bin link, and fails when a second install shares its prefix (the ENOENT seen when two processes
// installed into ~/.cache/tokengate-node at once).
const script = fileURLToPath(new URL('../../scripts/node.mjs', import.meta.url));

const fakeInstaller = `
import { appendFileSync, chmodSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
const prefix = process.argv[2];
const started = Date.now();
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
// A barrier (bounded: 5 s): with FAKE_INSTALL_TOGETHER=n, wait until n installs have started, so the
// race happens however slowly the machine starts processes.
const log = process.env.FAKE_INSTALL_LOG;
writeFileSync(\`\${log}.started.\${process.pid}\`, '');
const together = Number(process.env.FAKE_INSTALL_TOGETHER ?? 1);
const startedCount = () => readdirSync(dirname(log)).filter((name) => name.includes('.started.')).length;
while (startedCount() < together && Date.now() - started < 5000) pause(20);
mkdirSync(prefix, { recursive: true });
writeFileSync(join(prefix, 'node_modules.installing'), '', { flag: 'wx' }); // EEXIST when shared
console.log('added 2 packages in 1s');
mkdirSync(join(prefix, 'node_modules', 'node', 'bin'), { recursive: true });
const node = join(prefix, 'node_modules', 'node', 'bin', 'node');
writeFileSync(node, '#!/bin/sh\\necho 99\\n');
chmodSync(node, 0o755);
pause(300);
mkdirSync(join(prefix, 'node_modules', '.bin'));
symlinkSync('../node/bin/node', join(prefix, 'node_modules', '.bin', 'node'));
rmSync(join(prefix, 'node_modules.installing'));
appendFileSync(log, JSON.stringify({ started, ended: Date.now() }) + '\\n');
`;

let root: string;
let cache: string;
let dir: string;
let log: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tokengate-bootstrap-'));
  cache = join(root, 'cache'); // does not exist yet, as on a fresh machine
  dir = join(cache, 'tokengate-node');
  log = join(root, 'installs.jsonl');
  writeFileSync(join(root, 'install.mjs'), fakeInstaller);
  writeFileSync(log, '');
  env = { ...process.env, TOKENGATE_NODE_DIR: dir, TOKENGATE_NODE_MAJOR: '99', TOKENGATE_NODE_INSTALLER: join(root, 'install.mjs'), FAKE_INSTALL_LOG: log };
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }
function bootstrap(): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
const installs = (): { started: number; ended: number }[] => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { started: number; ended: number });
const expectWorking = (run: Run): void => {
  expect(run.code, run.stderr).toBe(0);
  // stdout is only the directory: .ci/run puts it on PATH as `node_dir=$(node scripts/node.mjs)`.
  expect(run.stdout).toBe(`${join(dir, 'node_modules', '.bin')}\n`);
  expect(execFileSync(join(run.stdout.trim(), 'node'), ['-p', '1'], { encoding: 'utf8' }).trim()).toBe('99');
};

describe('scripts/node.mjs, the Node bootstrap', () => {
  it('two bootstraps at once into a fresh directory both end with a working path, and the directory is complete', async () => {
    env['FAKE_INSTALL_TOGETHER'] = '2';
    const [a, b] = await Promise.all([bootstrap(), bootstrap()]);
    expectWorking(a!);
    expectWorking(b!);
    // The two installs really overlapped in time, so the runs above raced.
    const [first, second] = installs();
    expect(first && second && first.started < second.ended && second.started < first.ended).toBe(true);
    // The installer's stdout went to stderr, and no temporary sibling is left behind.
    expect(a!.stderr + b!.stderr).toContain('added 2 packages');
    expect(readdirSync(cache)).toEqual(['tokengate-node']);
    expect(readdirSync(join(dir, 'node_modules')).sort()).toEqual(['.bin', 'node']);
  });

  it('installs once: a later run finds the installed Node and does not install again', async () => {
    expectWorking(await bootstrap());
    expectWorking(await bootstrap());
    expect(installs()).toHaveLength(1);
  });

  it('replaces a half-written install left by a crash, but never deletes a directory the user filled', async () => {
    mkdirSync(join(dir, 'node_modules', 'node'), { recursive: true });
    expectWorking(await bootstrap());

    rmSync(dir, { recursive: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const refused = await bootstrap();
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('files not installed by npm');
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(cache)).toEqual(['tokengate-node']);
  });
});
