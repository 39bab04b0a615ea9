import type { Config } from '../config.js';
import type { Env } from '../env.js';
import { json } from '../http/responses.js';
import { sessionOf } from '../session.js';
import { coordinator } from '../token-cache.js';
import { sandboxStub } from '../upstream.js';

/**
 * `GET /status`: for the demo's live panel, per vendor: whether a token is held, until when, how many
 * upstream token requests were made and the last error, for the app credential and for this
 * browser's linked account. Never a token.
 */
export async function handleStatus(request: Request, env: Env, config: Config): Promise<Response> {
  const session = sessionOf(request);
  const vendors = await Promise.all(
    [...config.vendors.values()].map(async (vendor) => ({
      vendor: vendor.name,
      profile: vendor.profileName,
      routes: vendor.allowlist.routes.map((route) => ({ method: route.method, path: route.path, access: route.access })),
      app: await coordinator(env, { kind: 'app', vendor: vendor.name }).status(vendor.name),
      linkable: vendor.link !== undefined,
      linked:
        vendor.link !== undefined && session !== undefined
          ? await coordinator(env, { kind: 'session', vendor: vendor.name, session }).status(vendor.name)
          : null,
    })),
  );
  const sandbox = config.sandbox ? sandboxStub(env) : undefined;
  const stats = sandbox === undefined ? null : await (await sandbox.fetch(new Request('https://sandbox.tokengate.invalid/_stats'))).json();
  return json({ now: Date.now(), sandbox: stats, vendors });
}
