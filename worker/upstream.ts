import type { FetchLike } from 'tokengate';
import type { Env } from './env.js';

/**
 * The origin the default configuration gives the vendors' endpoints. `.invalid` never resolves
 * (RFC 6761), so with the sandbox off nothing addressed to it can leave the machine.
 */
export const SANDBOX_ORIGIN = 'https://sandbox.tokengate.invalid';

/**
 * The vendor sandbox: one Durable Object, so every isolate and every coordinator sees the same
 * vendor state (a token issued to one is known to all), as a real vendor would be.
 */
export function sandboxStub(env: Env): { fetch(request: Request): Promise<Response> } | undefined {
  const namespace = env.VENDOR_SANDBOX;
  return namespace === undefined ? undefined : namespace.get(namespace.idFromName('sandbox'));
}

/**
 * The fetch every vendor call goes through: requests to {@link SANDBOX_ORIGIN} go to the sandbox when
 * it is on; everything else goes to the network. Redirects are never followed.
 */
export function upstreamFetch(env: Env, sandboxOn: boolean): FetchLike {
  return async (input, init) => {
    // Every proxied call passes here: a Request object is built only for the sandbox, which needs one.
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (new URL(href).origin === SANDBOX_ORIGIN) {
      const sandbox = sandboxOn ? sandboxStub(env) : undefined;
      if (sandbox === undefined) return new Response('{"error":"sandbox_off"}', { status: 502, headers: { 'content-type': 'application/json' } });
      return sandbox.fetch(new Request(input, { ...init, redirect: 'manual' }));
    }
    return fetch(input, { ...init, redirect: 'manual' });
  };
}
