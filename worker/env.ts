import type { TokenCoordinator } from './coordinator.js';

/** The Worker's bindings (wrangler.toml) plus its vars and secrets, which config.ts checks. */
export interface Env {
  /** Encrypted access tokens for every isolate to read (docs/kv-key-schema.md). */
  TOKENS: KVNamespace;
  /** One object per vendor credential and per linked session: the only place tokens are requested. */
  COORDINATOR: DurableObjectNamespace<TokenCoordinator>;
  ASSETS?: Fetcher;
  [name: string]: unknown;
}
