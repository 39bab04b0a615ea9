import { DurableObject } from 'cloudflare:workers';
import type { Env } from './env.js';
import { createSandbox, type Sandbox } from './sandbox/index.js';

/** The vendor sandbox as a Durable Object: one shared vendor state for all isolates (dev and tests only). */
export class VendorSandbox extends DurableObject<Env> {
  readonly #sandbox: Sandbox = createSandbox();

  override async fetch(request: Request): Promise<Response> {
    return this.#sandbox.fetch(request);
  }
}
