/**
 * The vendor sandbox as a Worker of its own (`sandbox/wrangler.toml`), on its own origin, as a real
 * vendor would be: `npm start` serves it on http://127.0.0.1:8788 beside the product Worker, which
 * reaches it over HTTP like any vendor and imports nothing from here. One Durable Object holds the
 * whole vendor state in its SQLite storage, so every caller sees the same vendors and an evicted object
 * or a restarted `wrangler dev` forgets nothing.
 *
 * @module
 */
import { DurableObject } from 'cloudflare:workers';
import { createSandbox, type Sandbox } from './index.js';

export interface SandboxEnv {
  VENDOR_SANDBOX: DurableObjectNamespace<VendorSandbox>;
  /** Exact origins whose pages may drive the fault controls (the demo's): a list or a comma-separated string. */
  ALLOWED_ORIGINS?: string | string[];
}

function origins(value: SandboxEnv['ALLOWED_ORIGINS']): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : value.split(',')).map((origin) => origin.trim()).filter(Boolean);
}

/** The vendors' state: one object for all callers. */
export class VendorSandbox extends DurableObject<SandboxEnv> {
  readonly #sandbox: Sandbox;

  constructor(ctx: DurableObjectState, env: SandboxEnv) {
    super(ctx, env);
    this.#sandbox = createSandbox({ storage: ctx.storage.kv, allowedOrigins: origins(env.ALLOWED_ORIGINS) });
  }

  override async fetch(request: Request): Promise<Response> {
    return this.#sandbox.fetch(request);
  }
}

export default {
  async fetch(request, env): Promise<Response> {
    if (new URL(request.url).pathname === '/healthz') return Response.json({ ok: true, service: 'tokengate-sandbox' });
    return env.VENDOR_SANDBOX.get(env.VENDOR_SANDBOX.idFromName('sandbox')).fetch(request);
  },
} satisfies ExportedHandler<SandboxEnv>;
