// `npm run bench`: builds, then runs bench/run.mjs on a Node >= 22.
import { spawnSync } from 'node:child_process';
import { childEnv, ensureNode } from './node.mjs';

const node = ensureNode();
const env = childEnv(node);
for (const args of [['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], ['bench/run.mjs']]) {
  const status = spawnSync(node, args, { stdio: 'inherit', env }).status;
  if (status !== 0) process.exit(status ?? 1);
}
