import type { FetchLike } from 'tokengate';
import { createSandbox, type Sandbox } from './sandbox/index.js';

/**
 * The origin the default configuration gives the vendors' endpoints. `.invalid` never resolves
 * (RFC 6761), so with the sandbox off nothing addressed to it can leave the machine.
 */
export const SANDBOX_ORIGIN = 'https://sandbox.tokengate.invalid';

let sandbox: Sandbox | undefined;

/** The isolate's sandbox, made on first use. */
export function isolateSandbox(): Sandbox {
  sandbox ??= createSandbox();
  return sandbox;
}

/**
 * The fetch every vendor call goes through: requests to {@link SANDBOX_ORIGIN} are answered by the
 * in-process sandbox when it is on; everything else goes to the network. Redirects are never followed.
 */
export function upstreamFetch(sandboxOn: boolean): FetchLike {
  return async (input, init) => {
    const request = new Request(input, { ...init, redirect: 'manual' });
    if (new URL(request.url).origin === SANDBOX_ORIGIN) {
      if (!sandboxOn) return new Response('{"error":"sandbox_off"}', { status: 502, headers: { 'content-type': 'application/json' } });
      return isolateSandbox().fetch(request);
    }
    return fetch(request);
  };
}
