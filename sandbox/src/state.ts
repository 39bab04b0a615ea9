import type { IssuedCode } from './code-exchange.js';
import { createFaultBoard, type FaultBoard } from './faults.js';
import { StoredMap, type SandboxStorage } from './storage.js';
import { createTokenStore, type TokenStore } from './tokens.js';
import { ECHO_SERVER, OAUTH2_SERVER, VENDORS, type SandboxConfig, type SandboxStats, type ServerCounts, type VendorName } from './types.js';

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

/** Everything one sandbox remembers, kept in its storage; `POST /_reset` replaces it whole. */
export interface SandboxState {
  readonly config: SandboxConfig;
  readonly storage: SandboxStorage;
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
  /** Requests that reached the echo upstream (`/_echo/*`, not `/_echo/count`). */
  echoCalls: number;
}

/** The scalar part of the state, stored as one value after each request ({@link saveCounters}). */
interface Counters {
  stats: SandboxStats;
  nextInstacartUserId: number;
  echoCalls: number;
}

const COUNTERS = 'counters';

/** A zero per vendor, plus the generic OAuth 2.0 server's (`statsSnapshot` lists it once non-zero). */
function perVendor(): ServerCounts {
  const counts = Object.fromEntries(VENDORS.map((vendor) => [vendor, 0])) as Record<VendorName, number>;
  counts[OAUTH2_SERVER] = 0;
  counts[ECHO_SERVER] = 0;
  return counts;
}

/**
 * The state kept in `storage`: what it holds, or, when it holds nothing yet, a fresh state (no tokens
 * but the Eshopbox app refresh token, no faults, zero stats).
 */
export function loadState(config: SandboxConfig, storage: SandboxStorage): SandboxState {
  const stored = storage.get<Counters>(COUNTERS);
  const tokens = createTokenStore(storage);
  if (stored === undefined) {
    // Eshopbox's document: the refresh token comes with the app, long-lived and never rotated.
    tokens.add(config.credentials.eshopbox.refreshToken, {
      vendor: 'eshopbox',
      kind: 'refresh',
      subject: 'app',
      clientId: config.credentials.eshopbox.clientId,
      expiresAt: undefined,
    });
  }
  const state: SandboxState = {
    config,
    storage,
    tokens,
    faults: createFaultBoard(storage),
    stats: stored?.stats ?? { tokenRequests: perVendor(), refusedPolls: 0, apiCalls: perVendor() },
    instellixLastIssued: new StoredMap(storage, 'instellix:'),
    instacartUsers: new StoredMap(storage, 'instacart-user:'),
    instacartCodes: new StoredMap(storage, 'instacart-code:'),
    nextInstacartUserId: stored?.nextInstacartUserId ?? 100_001,
    oauth2Codes: new StoredMap(storage, 'oauth2-code:'),
    oauth2SpentRefreshTokens: new StoredMap(storage, 'oauth2-spent:'),
    echoCalls: stored?.echoCalls ?? 0,
  };
  saveCounters(state);
  return state;
}

/** Stores the counters; the sandbox calls it after every request (the maps write through on their own). */
export function saveCounters(state: SandboxState): void {
  const { stats, nextInstacartUserId, echoCalls } = state;
  state.storage.put<Counters>(COUNTERS, { stats, nextInstacartUserId, echoCalls });
}

/** Deadline in epoch ms for a token issued now with a lifetime in seconds. */
export function expiresAt(state: SandboxState, lifetimeSeconds: number): number {
  return state.config.now() + lifetimeSeconds * 1000;
}
