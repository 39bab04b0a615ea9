/** The five vendors the sandbox plays, by the names tokengate's profiles use. */
export type VendorName = 'instabox' | 'eshopbox' | 'instellix' | 'shopware' | 'instacart';

/** Every vendor, in a fixed order (stats, fault validation). */
export const VENDORS: readonly VendorName[] = ['instabox', 'eshopbox', 'instellix', 'shopware', 'instacart'];

/** The demo credentials each vendor accepts; every secret contains `sandbox-secret` so leak scans can find it. */
export interface SandboxCredentials {
  instabox: { clientId: string; clientSecret: string };
  /** The refresh token is the long-lived app token Eshopbox hands out when an app is created. */
  eshopbox: { clientId: string; clientSecret: string; refreshToken: string };
  instellix: { realm: string; clientId: string; clientSecret: string };
  /** clientId / clientSecret: an integration (client_credentials); username / password: an admin user (password grant). */
  shopware: { clientId: string; clientSecret: string; username: string; password: string };
  instacart: { clientId: string; clientSecret: string };
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
}

/** What the sandbox has seen since it was made or last reset. */
export interface SandboxStats {
  /** Requests that reached a token endpoint with the right method, faulted or refused ones included. */
  tokenRequests: Record<VendorName, number>;
  /** instellix token requests refused by the 5 s rule. */
  refusedPolls: number;
  /** Requests to protected (non-token) endpoints, refused ones included. */
  apiCalls: Record<VendorName, number>;
}

/** A running sandbox: a web-standard fetch handler plus its counters. */
export interface Sandbox {
  /** Answers one request; only the path after a leading `/sandbox` is read, so any origin works. */
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
