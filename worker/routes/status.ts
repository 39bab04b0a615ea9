import { isLoopbackOrigin, type Config } from '../config.js';
import type { Env } from '../env.js';
import { json } from '../http/responses.js';
import { sessionOf } from '../session.js';
import { timingSafeEqual } from 'tokengate';
import { checkBrowserCsrf } from '../proxy/cors.js';
import { coordinator, forget, kvKeyOf } from '../token-cache.js';
import { errorResponse } from '../http/responses.js';

/**
 * `GET /status`: for the demo's live panel (with the local sandbox) or an operator (X-Tokengate-Key), per vendor: whether a token is held, until when, how many
 * upstream token requests were made and the last error, for the app credential and for this
 * browser's linked account. Never a token.
 */
export async function handleStatus(request: Request, env: Env, config: Config): Promise<Response> {
  // Outside the local sandbox it is an operator route: it names key-only routes, expiries and errors (row 27).
  if (!localSandbox(request, config) && operatorAccess(request, config) !== 'ok') {
    return errorResponse(401, 'invalid_api_key', 'This route needs a valid X-Tokengate-Key');
  }
  const session = sessionOf(request);
  const vendors = await Promise.all(
    [...config.vendors.values()].map(async (vendor) => ({
      vendor: vendor.name,
      profile: vendor.profileName,
      routes: vendor.allowlist.routes.map((route) => ({ method: route.method, path: route.path, access: route.access })),
      app: await (await coordinator(env, { kind: 'app', vendor: vendor.name })).status(vendor.name),
      linkable: vendor.link !== undefined,
      linked:
        vendor.link !== undefined && session !== undefined
          ? await (await coordinator(env, { kind: 'session', vendor: vendor.name, session })).status(vendor.name, true)
          : null,
    })),
  );
  // Under `npm start`, where the demo finds the sandbox's own controls and counters.
  return json({ now: Date.now(), sandbox: config.sandboxOrigin === undefined ? null : { origin: config.sandboxOrigin }, vendors });
}

/**
 * Is this the local sandbox, seen from this machine? Loopback configuration (`SANDBOX_ORIGIN`, which
 * config.ts accepts only with a loopback `PUBLIC_ORIGIN`) and a loopback request host, both: a Worker
 * deployed with the development configuration and reached by a public name
 * (`tokengate.acme.workers.dev`) gets the production behaviour (row 27).
 */
export function localSandbox(request: Request, config: Config): boolean {
  return config.sandboxOrigin !== undefined && isLoopbackOrigin(new URL(request.url).origin);
}

/**
 * May this request use an operator route? On the local sandbox ({@link localSandbox}) a same-origin
 * browser call or a local script may; anywhere else only `X-Tokengate-Key`.
 */
export function operatorAccess(request: Request, config: Config): 'ok' | 'key' | 'csrf' {
  if (localSandbox(request, config)) return checkBrowserCsrf(request, config.allowedOrigins) === 'ok' ? 'ok' : 'csrf';
  const presented = request.headers.get('x-tokengate-key');
  return presented !== null && config.apiKey !== undefined && timingSafeEqual(presented, config.apiKey) ? 'ok' : 'key';
}

/**
 * `POST /reset/:vendor` (operator): the vendor's app credential starts over. A long-lived credential
 * the vendor refused (Eshopbox's app refresh token, say) is never retried on its own; after the vendor
 * side is fixed, this drops the refusal and the cached tokens so the next call asks the vendor once.
 * Setting a new secret does the same without this route.
 */
export async function handleReset(request: Request, env: Env, config: Config, vendorName: string): Promise<Response> {
  if (request.method !== 'POST') return errorResponse(405, 'method_not_allowed', 'Use POST', new Headers({ allow: 'POST' }));
  const access = operatorAccess(request, config);
  if (access === 'key') return errorResponse(401, 'invalid_api_key', 'This route needs a valid X-Tokengate-Key');
  if (access === 'csrf') return errorResponse(403, 'csrf', 'Browser calls need an allowed Origin and the X-Tokengate-CSRF: 1 header');
  if (!config.vendors.has(vendorName)) return errorResponse(404, 'unknown_vendor', 'No such vendor is configured');
  const credential = { kind: 'app', vendor: vendorName } as const;
  await (await coordinator(env, credential)).reset(vendorName, await kvKeyOf(credential));
  await forget(credential);
  return json({ reset: vendorName });
}
