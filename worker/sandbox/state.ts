import type { IssuedCode } from './code-exchange.js';
import { createFaultBoard, type FaultBoard } from './faults.js';
import { createTokenStore, type TokenStore } from './tokens.js';
import { OAUTH2_SERVER, VENDORS, type SandboxConfig, type SandboxStats, type ServerCounts, type VendorName } from './types.js';

/** A test user made through the Instacart fulfillment sandbox. */
export interface InstacartUser {
  readonly id: number;
  readonly firstName: string;
  readonly lastName: string;
}

/** An Instacart authorization code and what it was bound to when issued. */
export interface InstacartCode extends IssuedCode {
  readonly userId: number;
  readonly scope: string;
}

/** A code of the generic OAuth 2.0 server and what it was bound to when issued. */
export interface OAuth2Code extends IssuedCode {
  readonly scope: string;
}

/** Everything one sandbox remembers; `POST /_reset` replaces it whole. */
export interface SandboxState {
  readonly config: SandboxConfig;
  readonly tokens: TokenStore;
  readonly faults: FaultBoard;
  readonly stats: SandboxStats;
  /** instellix: when each `realm/client` last got a token (the 5 s rule). */
  readonly instellixLastIssued: Map<string, number>;
  readonly instacartUsers: Map<number, InstacartUser>;
  readonly instacartCodes: Map<string, InstacartCode>;
  /** The next Instacart test user id. */
  nextInstacartUserId: number;
  readonly oauth2Codes: Map<string, OAuth2Code>;
  /** Generic OAuth 2.0 server: refresh tokens already rotated away → their family, to spot a replay. */
  readonly oauth2SpentRefreshTokens: Map<string, string>;
}

/** A zero per vendor, plus the generic OAuth 2.0 server's (`statsSnapshot` lists it once non-zero). */
function perVendor(): ServerCounts {
  const counts = Object.fromEntries(VENDORS.map((vendor) => [vendor, 0])) as Record<VendorName, number>;
  counts[OAUTH2_SERVER] = 0;
  return counts;
}

/** A fresh state: no tokens but the Eshopbox app refresh token, no faults, zero stats. */
export function createState(config: SandboxConfig): SandboxState {
  const tokens = createTokenStore();
  // Eshopbox doc 001: the refresh token comes with the app, long-lived and never rotated.
  tokens.add(config.credentials.eshopbox.refreshToken, {
    vendor: 'eshopbox',
    kind: 'refresh',
    subject: 'app',
    clientId: config.credentials.eshopbox.clientId,
    expiresAt: undefined,
  });
  return {
    config,
    tokens,
    faults: createFaultBoard(),
    stats: { tokenRequests: perVendor(), refusedPolls: 0, apiCalls: perVendor() },
    instellixLastIssued: new Map(),
    instacartUsers: new Map(),
    instacartCodes: new Map(),
    nextInstacartUserId: 100_001,
    oauth2Codes: new Map(),
    oauth2SpentRefreshTokens: new Map(),
  };
}

/** Deadline in epoch ms for a token issued now with a lifetime in seconds. */
export function expiresAt(state: SandboxState, lifetimeSeconds: number): number {
  return state.config.now() + lifetimeSeconds * 1000;
}
