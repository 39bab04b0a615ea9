import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  interface ProvidedContext {
    sandboxOrigin: string;
  }
}

interface Wrangler {
  url: string;
  stop(): Promise<void>;
  cleanup(): void;
}
const load = <T>(path: string): Promise<T> => import(/* @vite-ignore */ new URL(path, import.meta.url).href) as Promise<T>;

// The vendor sandbox as `npm start` runs it: its own Worker in its own `wrangler dev`, on a free port of
// 127.0.0.1. The Worker under test reaches it over HTTP, as it would reach a real vendor.
let sandbox: Wrangler | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { startWrangler } = await load<{ startWrangler(options: object): Promise<Wrangler> }>('../../scripts/soak-engine.mjs');
  const { ensureNode, childEnv } = await load<{ ensureNode(): string; childEnv(node: string): NodeJS.ProcessEnv }>('../../scripts/node.mjs');
  const node = ensureNode();
  sandbox = await startWrangler({ node, env: childEnv(node), config: 'sandbox/wrangler.toml', readyTimeoutMs: 60_000 });
  project.provide('sandboxOrigin', sandbox.url);
  return async () => {
    await sandbox?.stop();
    sandbox?.cleanup();
  };
}
