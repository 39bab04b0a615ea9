/**
 * The Worker's browser-facing routes, without any of the core: what a page needs in BFF mode, where the
 * Worker runs the whole flow and keeps every token. The storefront embed loads only this up front and
 * fetches the token-mediating code (./mediated.ts, the core with it) when a page first uses that mode.
 */
import { TokenGateError } from '../../src/errors.ts';

/** The custom header every state-changing or API call carries (docs/security.md row 9). */
export const CSRF = { 'x-tokengate-csrf': '1' } as const;

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

/** A Worker error answer as a TokenGateError carrying its code (`{error, message, reason?}` or RFC 6749). */
export async function failure(response: Response, what: string): Promise<TokenGateError> {
  const body = (await readJson(response)) as Record<string, unknown> | undefined;
  const code = typeof body?.['reason'] === 'string' ? body['reason'] : typeof body?.['error'] === 'string' ? body['error'] : 'ERR_HTTP_STATUS';
  const message = typeof body?.['message'] === 'string' ? body['message'] : `${what} answered HTTP ${response.status}`;
  return new TokenGateError(code, message, { status: response.status });
}

/** Asks the Worker to unlink this browser's session at a vendor (it drops the refresh token). */
/** What the Worker's unlink did at the vendor (RFC 7009): see the Worker's `UnlinkOutcome`. */
export interface Unlinked {
  revocation: 'revoked' | 'not_offered' | 'nothing_to_revoke' | 'failed';
  message?: string;
}

export async function unlinkSession(vendor: string): Promise<Unlinked> {
  const response = await fetch(`/link/${encodeURIComponent(vendor)}/unlink`, { method: 'POST', headers: { ...CSRF, accept: 'application/json' } });
  if (!response.ok) throw await failure(response, 'Unlinking');
  return response.json();
}

/** The Worker's view of this browser's linked session: `GET /link/<vendor>/status`. */
export async function linkStatus(vendor: string): Promise<{ vendor: string; linked: boolean; expiresAt?: number; tokenRequests?: number; lastError?: { code: string; message: string; at: number } }> {
  const response = await fetch(`/link/${encodeURIComponent(vendor)}/status`, { headers: { accept: 'application/json' } });
  if (!response.ok) throw await failure(response, 'The link status');
  return response.json();
}

/** Calls a fronted API through the Worker with the CSRF header; the session cookie rides along. */
export function call(vendor: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('x-tokengate-csrf', '1');
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  const suffix = path.startsWith('/') ? path : `/${path}`;
  return fetch(`/api/${encodeURIComponent(vendor)}${suffix}`, { ...init, headers, credentials: 'same-origin' });
}
