import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { followAuthorization } from '../conformance/follow.js';

/** The Worker under test, in this workerd (PUBLIC_ORIGIN http://127.0.0.1:8787 in wrangler.toml). */
export const worker = (exports as unknown as { default: { fetch(input: string | Request, init?: RequestInit): Promise<Response> } }).default;
export const ORIGIN = 'http://127.0.0.1:8787';

/** The `name=value` of a cookie the answer sets. */
export const cookieOf = (response: Response, name: string): string | undefined =>
  response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .find((pair) => pair.startsWith(`${name}=`));

/** A BFF link: start → provider login and consent → callback; answers the start's location and the callback's answer. */
export async function link(vendor: string): Promise<{ authorize: URL; done: Response }> {
  const start = await worker.fetch(`${ORIGIN}/link/${vendor}/start`, { redirect: 'manual' });
  expect(start.status).toBe(303);
  const authorize = new URL(start.headers.get('location')!);
  const callback = new URL(await followAuthorization(authorize.href));
  const done = await worker.fetch(`${ORIGIN}${callback.pathname}${callback.search}`, { redirect: 'manual', headers: { cookie: cookieOf(start, '__Host-tg_link')! } });
  return { authorize, done };
}
