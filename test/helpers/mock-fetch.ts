import type { FetchLike } from '../../src/index.js';

/** One request as the mock saw it, body already read. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
  redirect: RequestRedirect | undefined;
}

export type Responder = (request: SeenRequest) => Response | Promise<Response>;

export interface MockFetch {
  fetch: FetchLike;
  requests: SeenRequest[];
  /** Fails unless exactly `count` requests were made. */
  expectCount(count: number): void;
}

/**
 * A fetch that never touches the network: each call is recorded and answered by the next responder
 * (the last one repeats). Tests assert on `requests`.
 */
export function mockFetch(...responders: Responder[]): MockFetch {
  const requests: SeenRequest[] = [];
  const fetch: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const seen: SeenRequest = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      // Bytes then decode: workerd warns when .text() reads a form body.
      body: new TextDecoder().decode(await request.arrayBuffer()),
      redirect: init?.redirect,
    };
    requests.push(seen);
    const responder = responders[Math.min(requests.length - 1, responders.length - 1)];
    if (responder === undefined) throw new TypeError('mockFetch: no responder configured');
    if (init?.signal?.aborted) throw init.signal.reason ?? new DOMException('aborted', 'AbortError');
    return responder(seen);
  };
  return {
    fetch,
    requests,
    expectCount(count) {
      if (requests.length !== count) throw new Error(`expected ${count} request(s), saw ${requests.length}`);
    },
  };
}

/** A JSON answer. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** A standard token answer. */
export function tokenAnswer(fields: Record<string, unknown> = {}): Response {
  return json({ access_token: 'at-1', token_type: 'Bearer', expires_in: 3600, ...fields });
}

/** A fetch that hangs until its signal aborts, like a server that never answers. */
export const hangingFetch: FetchLike = (_input, init) =>
  new Promise((_, reject) => {
    if (init?.signal?.aborted) reject(init.signal.reason ?? new DOMException('aborted', 'AbortError'));
    init?.signal?.addEventListener('abort', () => reject(init.signal?.reason ?? new DOMException('aborted', 'AbortError')));
  });
