/** The five vendors the sandbox plays, by the names tokengate's profiles use. */
export type VendorName = 'instabox' | 'eshopbox' | 'instellix' | 'shopware' | 'instacart';

/** Every vendor, in a fixed order (stats, fault validation). */
export const VENDORS: readonly VendorName[] = ['instabox', 'eshopbox', 'instellix', 'shopware', 'instacart'];

/**
 * The sandbox's generic, standards-only OAuth 2.0 authorization server (`oauth2.ts`): its key in stats,
 * faults and token records. It is no vendor dialect, so `VendorName` and `VENDORS` stay the five vendors
 * (callers enumerate them); but the routing, fault and token plumbing is keyed by `VendorName`, so the
 * key is typed as one. Only this constant ever carries the value.
 */
export const OAUTH2_SERVER = 'oauth2' as string as VendorName;

/**
 * The echo upstream's own token endpoint (`/_echo/token`, Instabox's dialect and credentials), counted
 * apart so the demo's Echo vendor never adds to Instabox's counters. Typed like {@link OAUTH2_SERVER}.
 */
export const ECHO_SERVER = 'echo' as string as VendorName;

/** The demo credentials each vendor accepts; every secret contains `sandbox-secret` so leak scans can find it. */
export interface SandboxCredentials {
  instabox: { clientId: string; clientSecret: string };
  /** The refresh token is the long-lived app token Eshopbox hands out when an app is created. */
  eshopbox: { clientId: string; clientSecret: string; refreshToken: string };
  instellix: { realm: string; clientId: string; clientSecret: string };
  /** clientId / clientSecret: an integration (client_credentials); username / password: an admin user (password grant). */
  shopware: { clientId: string; clientSecret: string; username: string; password: string };
  instacart: { clientId: string; clientSecret: string };
  /**
   * The generic OAuth 2.0 server's registered clients: a confidential one (`clientId` + `clientSecret`,
   * client_secret_basic or client_secret_post) and a public one (`publicClientId`, auth `none`), both
   * with the exact `redirectUris`.
   */
  oauth2: { clientId: string; clientSecret: string; publicClientId: string; redirectUris: readonly string[] };
}

/** Options of `createSandbox`; all optional. */
export interface SandboxOptions {
  /** Epoch milliseconds; injectable so tests can move the clock. Default `Date.now`. */
  now?: () => number;
  /** Access-token lifetimes in seconds, per vendor; defaults in `DEFAULT_LIFETIMES`. */
  lifetimes?: Partial<Record<VendorName, number>>;
  /** Replaces the built-in demo credentials of the vendors named. */
  credentials?: Partial<SandboxCredentials>;
  /** How the `slow` fault waits. Default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** Where the state is kept. Default: in memory, for as long as the sandbox object lives. */
  storage?: import('./storage.js').SandboxStorage;
  /** Exact origins whose pages may drive the controls (CORS, no credentials): the demo's. Default none. */
  allowedOrigins?: readonly string[];
}

/**
 * Per-vendor counters. `oauth2`, the generic OAuth 2.0 server, is listed once it has counted something
 * (read it as `?? 0`), so the five vendors' counters keep their exact shape.
 */
export type ServerCounts = Record<VendorName, number> & { oauth2?: number; echo?: number };

/** What the sandbox has seen since it was made or last reset. */
export interface SandboxStats {
  /** Requests that reached a token endpoint with the right method, faulted or refused ones included. */
  tokenRequests: ServerCounts;
  /** instellix token requests refused by the 5 s rule. */
  refusedPolls: number;
  /**
   * Requests to protected (non-token) endpoints, refused ones included; for `oauth2` also its metadata
   * and authorization endpoint.
   */
  apiCalls: ServerCounts;
}

/** A running sandbox: a web-standard fetch handler plus its counters. */
export interface Sandbox {
  /** Answers one request; only the path is read, so any origin works. */
  fetch(request: Request): Promise<Response>;
  stats(): SandboxStats;
}

/** The resolved options every handler reads. */
export interface SandboxConfig {
  readonly now: () => number;
  readonly lifetimes: Readonly<Record<VendorName, number>>;
  readonly credentials: Readonly<SandboxCredentials>;
  readonly sleep: (ms: number) => Promise<void>;
}
