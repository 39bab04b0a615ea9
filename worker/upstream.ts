import type { FetchLike } from 'tokengate';

/**
 * The fetch every vendor call goes through: the network, never following a redirect. A local vendor
 * sandbox is reached the same way, over HTTP to its own origin.
 */
export const upstreamFetch: FetchLike = (input, init) => fetch(input, { ...init, redirect: 'manual' });
