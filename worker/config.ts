import { TokenGateError, withPar, type FetchLike, type Profile } from 'tokengate';
import { eshopbox, instabox, instacart, instellix, oauth2, shopware } from 'tokengate/profiles';
import * as v from 'valibot';
import { clientKeyFromSecret } from './client-key.js';
import { parseKeyRing, type KeyRing } from './crypto.js';
import { operatorKeyProblems } from './operator-keys.js';
import { compileAllowlist, type Allowlist } from './proxy/allowlist.js';
import { RATE_LIMIT_BINDINGS } from './rate-limits.js';

/** The profile factories a vendor entry can name. */
const FACTORIES = { instabox, eshopbox, instellix, shopware, instacart, oauth2 } as const;
export type ProfileName = keyof typeof FACTORIES;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** The linking modes a vendor may be limited to (`link.mode`). */
const LINK_MODES = ['bff', 'mediated'] as const;
const ACCESS = ['public', 'session', 'key'] as const;

/** A proxied call's deadline when the vendor entry sets none (SECURITY row 21). */
export const DEFAULT_DEADLINE_MS = 10_000;

const nonEmpty = v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'));
const origin = v.pipe(
  v.string('must be a string'),
  v.check((value) => {
    try {
      return new URL(value).origin === value;
    } catch {
      return false;
    }
  }, 'must be an origin like https://shop.example (scheme, host, optional port; no path or trailing slash)'),
);

const Route = v.object({
  method: v.picklist(METHODS, `must be one of ${METHODS.join(', ')}`),
  path: nonEmpty,
  access: v.optional(v.picklist(ACCESS, `must be one of ${ACCESS.join(', ')}`), 'public'),
});

const Vendor = v.object({
  profile: v.picklist(Object.keys(FACTORIES) as ProfileName[], `must be one of ${Object.keys(FACTORIES).join(', ')}`),
  /** Non-secret profile options: clientId, realm, environment, shopUrl, username, scope, endpoint overrides. */
  options: v.optional(v.record(v.string(), v.union([v.string(), v.boolean(), v.array(v.string())], 'must be a string, a boolean or a list of strings')), {}),
  /** Profile option → name of the Worker secret that holds it, e.g. clientSecret = "INSTABOX_CLIENT_SECRET". */
  secrets: v.optional(v.record(v.string(), v.pipe(v.string(), v.regex(/^[A-Z][A-Z0-9_]*$/, 'must name a secret in UPPER_SNAKE_CASE'))), {}),
  routes: v.optional(v.array(Route, 'must be a list of { method, path, access }'), []),
  /**
   * Account linking for this vendor: the scope to ask for, and optionally the one mode it allows
   * (`bff`: the Worker keeps every token, e.g. a vendor whose exchange needs the client secret and
   * whose tokens must never reach a page; `mediated`: the browser runs PKCE). Present = linking enabled.
   */
  link: v.optional(v.object({ scope: v.optional(v.string()), mode: v.optional(v.picklist(LINK_MODES, `must be one of ${LINK_MODES.join(', ')}`)) })),
  /** Milliseconds a proxied call may take, answer body included, before it is answered 504. */
  deadlineMs: v.optional(v.pipe(v.number('must be a number of milliseconds'), v.integer('must be a whole number'), v.minValue(100, 'must be at least 100'), v.maxValue(120_000, 'must be at most 120000')), DEFAULT_DEADLINE_MS),
});

const Vars = v.object({
  PUBLIC_ORIGIN: origin,
  // A list in wrangler.toml; a comma-separated string where it comes from `wrangler dev --var`.
  ALLOWED_ORIGINS: v.union(
    [
      v.array(origin, 'must be a list of origins'),
      v.pipe(
        v.string(),
        v.transform((text) => text.split(',').map((part) => part.trim()).filter(Boolean)),
        v.array(origin, 'must be a list of origins'),
      ),
    ],
    'must be a list of origins',
  ),
  /**
   * The path the Worker is mounted under on PUBLIC_ORIGIN's host (a Workers Route like
   * `shop.example/tokengate/*`): every route, redirect URI and asset is under it. Empty: the host's root.
   */
  BASE_PATH: v.optional(
    v.pipe(v.string(), v.regex(/^(?:\/[A-Za-z0-9][A-Za-z0-9._~-]*)*$/, 'must be empty or a path like /tokengate (no trailing slash)')),
    '',
  ),
  /** Local development only: the origin of the vendor sandbox Worker (`npm start` sets it). */
  SANDBOX_ORIGIN: v.optional(origin),
  /**
   * Seconds a started BFF link waits for its callback; then its transaction and cookie expire, and the
   * session's Durable Object deletes it (an alarm). A number, or its digits from `wrangler dev --var`.
   */
  LINK_MAX_AGE: v.optional(
    v.pipe(
      v.union([v.number(), v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number))], 'must be a whole number of seconds'),
      v.integer('must be a whole number of seconds'),
      v.minValue(1, 'must be at least 1'),
      v.maxValue(3600, 'must be at most 3600'),
    ),
    600,
  ),
  VENDORS: v.record(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]{0,31}$/, 'vendor names are lowercase letters, digits and dashes')), Vendor, 'must be a table of vendors'),
});

export interface VendorRuntime {
  name: string;
  profileName: ProfileName;
  profile: Profile;
  /** The one upstream the proxy talks to for this vendor: the profile's API base URL. */
  upstream: URL;
  allowlist: Allowlist;
  /** The methods its routes allow, for CORS preflights. */
  methods: string[];
  /** Linking: its scope, and `mode` when the vendor allows one mode only (undefined: both). */
  link: { scope: string | undefined; mode?: (typeof LINK_MODES)[number] } | undefined;
  /** Milliseconds a proxied call may take before it is answered 504 (`deadlineMs`, default 10 s). */
  deadlineMs: number;
  /**
   * The secret option values, joined: the coordinator keeps a hash of it with a refused credential, so
   * a new secret (a new Eshopbox app token, say) is tried at once and the refused one never again.
   */
  credential: string;
  /** The Worker secrets that hold this credential (binding names, never values): what a log line says to check. */
  secretNames: string[];
  /**
   * DPoP (RFC 9449, `options.dpop = true`): the vendor's tokens are bound to a key of each credential,
   * which its Durable Object makes, keeps sealed and alone signs with (worker/coordinator.ts).
   */
  dpop: boolean;
}

export interface Config {
  /** How the Worker reaches vendors: the network, or the sandbox for its origin. */
  fetch: FetchLike;
  publicOrigin: string;
  /** `BASE_PATH`: '' or a path like `/tokengate`, never ending in `/`. */
  basePath: string;
  /**
   * Exact origins whose pages may call the Worker with credentials (CORS, CSRF) and that a BFF link
   * may return to (`return_to`): the storefronts.
   */
  allowedOrigins: readonly string[];
  /** The local vendor sandbox's origin (development only; loopback, checked). */
  sandboxOrigin: string | undefined;
  /** `LINK_MAX_AGE`: seconds a started BFF link waits for its callback (default 600). */
  linkMaxAge: number;
  vendors: ReadonlyMap<string, VendorRuntime>;
  keys: KeyRing;
  apiKey: string | undefined;
}

/** Raised for any configuration problem; the message names the key and never contains a secret. */
export class ConfigError extends Error {
  override name: string = 'ConfigError';
}

/** 127.0.0.0/8, ::1 and localhost: origins that only this machine can reach. */
export function isLoopbackOrigin(value: string): boolean {
  const host = new URL(value).hostname;
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Reads and checks the Worker's configuration: `wrangler.toml` vars and Worker secrets. Every problem
 * is reported at once, each naming its key (`VENDORS.instabox.routes[1].path: ...`).
 */
export function loadConfig(env: Record<string, unknown>, upstreamFetch: FetchLike): Config {
  const parsed = v.safeParse(Vars, env);
  if (!parsed.success) {
    const lines = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? describeRoot(issue)}: ${issue.message}`);
    throw new ConfigError(`tokengate configuration is invalid:\n- ${[...new Set(lines)].join('\n- ')}`);
  }
  const vars = parsed.output;
  const sandboxOrigin = vars.SANDBOX_ORIGIN;
  const problems: string[] = [];
  // The sandbox's demo credentials are public: a Worker that talks to it must not be reachable from outside.
  if (sandboxOrigin !== undefined && !(isLoopbackOrigin(sandboxOrigin) && isLoopbackOrigin(vars.PUBLIC_ORIGIN))) {
    problems.push('SANDBOX_ORIGIN: the vendor sandbox is for local development only; it needs a loopback SANDBOX_ORIGIN and PUBLIC_ORIGIN (remove SANDBOX_ORIGIN to deploy)');
  }
  const secret = (name: string, label: string, required: boolean): string | undefined => {
    const value = env[name];
    if (typeof value === 'string' && value !== '') return value;
    if (required) problems.push(`${label}: the Worker secret ${name} is not set (wrangler secret put ${name}, or .dev.vars locally)`);
    return undefined;
  };

  const vendors = new Map<string, VendorRuntime>();
  for (const [name, vendor] of Object.entries(vars.VENDORS)) {
    const at = `VENDORS.${name}`;
    // Option values may say {PUBLIC_ORIGIN} or {SANDBOX_ORIGIN}, so the local setup follows its ports.
    const options: Record<string, unknown> = { fetch: upstreamFetch };
    for (const [option, value] of Object.entries(vendor.options)) {
      if (typeof value !== 'string') {
        options[option] = value;
        continue;
      }
      if (value.includes('{SANDBOX_ORIGIN}') && sandboxOrigin === undefined) problems.push(`${at}.options.${option}: says {SANDBOX_ORIGIN}, but SANDBOX_ORIGIN is not set`);
      options[option] = value.replaceAll('{PUBLIC_ORIGIN}', vars.PUBLIC_ORIGIN).replaceAll('{SANDBOX_ORIGIN}', sandboxOrigin ?? 'http://sandbox.invalid');
    }
    for (const [option, secretName] of Object.entries(vendor.secrets)) options[option] = secret(secretName, `${at}.secrets.${option}`, true);
    // The raw secret values, the private key's text included: a new key is a new credential.
    const credential = JSON.stringify(Object.keys(vendor.secrets).sort().map((option) => [option, options[option]]));
    // Worker-only options, not the profile's: the key's `kid`, the PAR endpoint and DPoP.
    const { clientKeyId, parUrl, dpop } = options;
    delete options['clientKeyId'];
    delete options['parUrl'];
    delete options['dpop'];
    if (dpop !== undefined && typeof dpop !== 'boolean') problems.push(`${at}.options.dpop: must be true or false`);
    if (clientKeyId !== undefined && typeof clientKeyId !== 'string') problems.push(`${at}.options.clientKeyId: must be a string (the key's kid)`);
    if (parUrl !== undefined && typeof parUrl !== 'string') problems.push(`${at}.options.parUrl: must be the URL of the pushed authorization request endpoint`);
    if (options['assertionAudience'] !== undefined && options['assertionAudience'] !== 'token_endpoint' && options['assertionAudience'] !== 'issuer') {
      problems.push(`${at}.options.assertionAudience: must be "token_endpoint" or "issuer"`);
      continue;
    }
    // A DPoP vendor's tokens are bound to a key only the Worker holds: a page could not use one.
    if (dpop === true && vendor.link?.mode === 'mediated') problems.push(`${at}.link.mode: a DPoP vendor links the BFF way only`);
    if (vendor.profile !== 'oauth2' && (vendor.secrets['clientKey'] !== undefined || parUrl !== undefined || dpop === true)) {
      problems.push(`${at}: secrets.clientKey, options.parUrl and options.dpop are for the oauth2 profile`);
      continue;
    }
    if (typeof options['clientKey'] === 'string') {
      const key = clientKeyFromSecret(options['clientKey'], `${at}.secrets.clientKey`, vendor.secrets['clientKey']!, typeof clientKeyId === 'string' ? clientKeyId : undefined);
      if (typeof key === 'string') {
        problems.push(key);
        continue;
      }
      options['clientKey'] = key;
    }
    let profile: Profile;
    try {
      profile = (FACTORIES[vendor.profile] as (o: unknown) => Profile)(options);
      // BFF linking pushes every authorization request from here, with the client's authentication (RFC 9126).
      if (typeof parUrl === 'string') profile = withPar(profile, { url: parUrl, required: true });
    } catch (error) {
      problems.push(`${at}: ${error instanceof TokenGateError ? error.message : 'the profile options are invalid'}`);
      continue;
    }
    if (profile.apiBaseUrl === undefined) {
      problems.push(`${at}.options.apiBaseUrl: the ${vendor.profile} profile needs an API base URL to proxy to`);
      continue;
    }
    let allowlist: Allowlist;
    try {
      allowlist = compileAllowlist(vendor.routes);
    } catch (error) {
      problems.push(`${at}.routes: ${error instanceof Error ? error.message : 'invalid'}`);
      continue;
    }
    vendors.set(name, {
      name,
      profileName: vendor.profile,
      profile,
      upstream: new URL(profile.apiBaseUrl.endsWith('/') ? profile.apiBaseUrl : `${profile.apiBaseUrl}/`),
      allowlist,
      methods: [...new Set(vendor.routes.flatMap((route) => (route.method === 'GET' ? ['GET', 'HEAD'] : [route.method])))],
      link: vendor.link === undefined ? undefined : { scope: vendor.link.scope, ...(vendor.link.mode === undefined ? {} : { mode: vendor.link.mode }) },
      deadlineMs: vendor.deadlineMs,
      credential,
      secretNames: Object.values(vendor.secrets).sort(),
      dpop: dpop === true,
    });
  }

  // Without its rate limits the Worker would spend vendor calls for anyone who asks: fail closed.
  for (const name of RATE_LIMIT_BINDINGS) {
    const binding = env[name] as { limit?: unknown } | undefined;
    if (typeof binding?.limit !== 'function') problems.push(`${name}: the rate limiting binding is missing ([[ratelimits]] in wrangler.toml)`);
  }
  const usesKey = Object.values(vars.VENDORS).some((vendor) => vendor.routes.some((route) => route.access === 'key'));
  const apiKey = secret('TOKENGATE_API_KEY', 'routes with access "key"', usesKey);
  const keySecret = secret('TOKENGATE_KEYS', 'token encryption', true);
  let keys: KeyRing | undefined;
  if (keySecret !== undefined) {
    try {
      keys = parseKeyRing(keySecret);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : 'TOKENGATE_KEYS is invalid');
    }
  }
  // Outside loopback no weak or published operator key and no published key ring (rows 27, 30).
  if (!isLoopbackOrigin(vars.PUBLIC_ORIGIN)) problems.push(...operatorKeyProblems(apiKey, keySecret));
  if (problems.length > 0 || keys === undefined) {
    throw new ConfigError(`tokengate configuration is invalid:\n- ${problems.join('\n- ')}`);
  }
  return {
    fetch: upstreamFetch,
    publicOrigin: vars.PUBLIC_ORIGIN,
    basePath: vars.BASE_PATH,
    allowedOrigins: vars.ALLOWED_ORIGINS,
    sandboxOrigin,
    linkMaxAge: vars.LINK_MAX_AGE,
    vendors,
    keys,
    apiKey,
  };
}

function describeRoot(issue: v.BaseIssue<unknown>): string {
  // A missing top-level key has no dot path; its name is in the issue's path key when present.
  const key = issue.path?.[0]?.key;
  return typeof key === 'string' ? key : 'configuration';
}
