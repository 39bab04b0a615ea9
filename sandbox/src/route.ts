import type { SandboxState } from './state.js';
import type { VendorName } from './types.js';

/** What a handler gets: the request, the named groups of its path pattern and the sandbox state. */
export interface RouteContext {
  readonly request: Request;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly state: SandboxState;
}

/** One sandbox endpoint. Token routes count as token requests and take faults; api routes count as API calls. */
export interface Route {
  readonly vendor: VendorName;
  readonly kind: 'token' | 'api';
  /** Matched against the whole path. */
  readonly pattern: RegExp;
  readonly methods: readonly string[];
  /** An api route that takes the server's armed fault too (the revocation endpoint), without counting as a token request. */
  readonly faults?: true;
  handle(context: RouteContext): Promise<Response>;
}
