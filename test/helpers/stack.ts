/** `npm start`'s two Workers as scripts/soak-engine.mjs starts them (the Worker's handle, the sandbox's origin beside it). */
export interface Stack {
  url: string;
  /** The product Worker's wrangler process, leader of its process group (wrangler, workerd, esbuild). */
  pid: number;
  sandboxUrl: string;
  log(): string;
  reloads(): number;
  stop(): Promise<void>;
  cleanup(): void;
}

interface Engine {
  ROOT: string;
  snapshotTree(root: string): { dir: string; remove(): void };
  startStack(options: { node: string; env: NodeJS.ProcessEnv; cwd: string; readyTimeoutMs: number }): Promise<Stack>;
}
interface NodeHelpers {
  ensureNode(): string;
  childEnv(node: string): NodeJS.ProcessEnv;
}

/** Plain .mjs modules shared with the scripts; loaded by URL so the tests typecheck without .d.ts files. */
export const loadScript = <T>(path: string): Promise<T> => import(/* @vite-ignore */ new URL(`../../scripts/${path}`, import.meta.url).href) as Promise<T>;

/**
 * Starts the stack on a snapshot of the tree (edits made meanwhile cannot reload it), on free ports of
 * 127.0.0.1. `close()` stops both Workers and removes the snapshot and their state.
 */
export async function startSnapshotStack(): Promise<{ stack: Stack; close(): Promise<void> }> {
  const engine = await loadScript<Engine>('soak-engine.mjs');
  const { ensureNode, childEnv } = await loadScript<NodeHelpers>('node.mjs');
  const node = ensureNode();
  const snapshot = engine.snapshotTree(engine.ROOT);
  let stack: Stack;
  try {
    stack = await engine.startStack({ node, env: childEnv(node), cwd: snapshot.dir, readyTimeoutMs: 60_000 });
  } catch (error) {
    snapshot.remove();
    throw error;
  }
  return {
    stack,
    async close() {
      await stack.stop();
      stack.cleanup();
      snapshot.remove();
    },
  };
}
