// Error codes → sentences a person understands. Shared by the demo page, the callback page and the embed.
// Codes come from three places: the core (ERR_*), OAuth servers (RFC 6749 snake_case), and the Worker's
// own `{ error, message }` bodies (snake_case as well).

const SENTENCES: Readonly<Record<string, string>> = {
  // The core's transport and parsing (src/errors.ts)
  ERR_NETWORK: 'The service could not be reached (no answer, connection refused or blocked).',
  ERR_TIMEOUT: 'The service took too long to answer, so the request was given up.',
  ERR_ABORTED: 'The request was cancelled.',
  ERR_HTTP_STATUS: 'The service answered with an error status; it may be down or overloaded.',
  ERR_UNEXPECTED_REDIRECT: 'The service answered with a redirect where it should have answered directly.',
  ERR_HTML_RESPONSE: 'The service answered with a web page (often a login or error page) instead of data.',
  ERR_CONTENT_TYPE: 'The service answered in a format other than JSON.',
  ERR_INVALID_JSON: 'The answer was cut off or garbled, so it could not be read.',
  ERR_BODY_TOO_LARGE: 'The answer was far larger than expected and was not read.',
  ERR_INVALID_RESPONSE: 'The answer did not contain a usable token.',
  ERR_INVALID_CONFIG: 'This vendor is not configured correctly.',
  ERR_INVALID_METADATA: 'The sign-in server describes itself inconsistently.',
  ERR_NO_GRANT: 'There is no way to get a token for this yet; link the account first.',
  ERR_LINK_REQUIRED: 'The linked account can no longer be renewed (it was revoked or expired). Link it again.',
  // Account-linking checks
  ERR_STATE_MISMATCH: 'The sign-in response did not match this browser’s request, so it was refused. It may be stale, from another tab, or forged.',
  ERR_STATE_MISSING: 'The sign-in response did not match this browser’s request (it carried no state), so it was refused.',
  ERR_NO_TRANSACTION: 'This browser has no sign-in in progress for that response. It may have expired or already been used; start again.',
  ERR_ISSUER_MISMATCH: 'The sign-in response came from a different server than the one this browser asked, so it was refused (mix-up protection).',
  ERR_ISSUER_MISSING: 'The sign-in response did not say which server sent it, although that server always does, so it was refused.',
  ERR_REDIRECT_URI_MISMATCH: 'The sign-in response arrived at an address other than the one the sign-in started with.',
  ERR_CODE_MISSING: 'The sign-in response carried neither a result nor an error.',
  ERR_SANDBOX_USER: 'The vendor’s test environment could not create a test shopper.',
  ERR_AUTHORIZE: 'The vendor refused to authorize the test shopper.',
  ERR_CROSS_SITE_START: 'Linking was started from another site, so the Worker did not start it. Start it again from this page.',
  ERR_FRESH_TOKEN_REFUSED: 'The vendor refused a token the Worker had just obtained for it.',
  // OAuth 2.0 (RFC 6749 §4.1.2.1, §5.2)
  access_denied: 'You declined the request, so nothing was linked.',
  invalid_client: 'The vendor rejected this app’s credentials (client id or secret).',
  invalid_grant: 'The vendor refused the code or refresh token: it expired, was already used, or was revoked.',
  invalid_request: 'The request was malformed.',
  invalid_scope: 'The permissions asked for are not offered by the vendor.',
  unauthorized_client: 'This app is not allowed to sign in that way.',
  unsupported_grant_type: 'The vendor does not support that way of getting a token.',
  unsupported_response_type: 'The vendor does not support this kind of sign-in.',
  server_error: 'The vendor’s sign-in server failed.',
  temporarily_unavailable: 'The vendor’s sign-in server is temporarily unavailable; try again shortly.',
  // The Worker's `{ error, message }` bodies
  token_unavailable: 'The Worker could not get a token from the vendor, so the call was not made.',
  fresh_token_refused: 'The vendor refused a token the Worker had just obtained for it; the Worker will not ask again for a few seconds.',
  upstream_timeout: 'The vendor did not answer in time, so the call was given up.',
  rate_limited: 'Too many requests: slow down and retry later.',
  link_required: 'The linked account can no longer be renewed. Link it again.',
  not_linked: 'This call acts as you: link your account first.',
  csrf: 'The Worker refused the call: it did not come from this site with the demo’s anti-forgery header.',
  route_not_allowed: 'That path is not on this vendor’s allowlist.',
  method_not_allowed: 'That method is not allowed on this path.',
  invalid_path: 'That path was refused as unsafe.',
  unknown_vendor: 'No such vendor is configured.',
  upstream_redirect: 'The vendor answered with a redirect, which the Worker does not follow.',
  body_too_large: 'The request body is too large.',
  configuration_error: 'The Worker’s configuration is invalid; see its log.',
  internal_error: 'The Worker failed unexpectedly.',
  no_link_in_progress: 'This browser has no account link in progress; start again.',
  link_failed: 'Linking the account failed.',
  authorize_failed: 'The vendor’s test environment did not authorize the test shopper.',
  not_found: 'Not found.',
  // The sandbox's fault answers
  service_unavailable: 'The vendor is having an outage (simulated).',
  too_many_requests: 'The vendor is rate-limiting requests (simulated).',
};

/**
 * The Worker's codes whose message only restates the sentence above: their message is not shown again.
 * (token_unavailable, invalid_path and the vendor's own bodies carry detail, so theirs is.)
 */
const RESTATED = new Set(['link_required', 'not_linked', 'fresh_token_refused', 'csrf', 'route_not_allowed', 'method_not_allowed', 'unknown_vendor', 'upstream_redirect', 'body_too_large', 'configuration_error', 'internal_error', 'rate_limited']);

/** A sentence for an error code; `fallback` (e.g. the server's own message) for unknown codes. */
export function describeCode(code: string | undefined, fallback?: string): string {
  if (code && Object.hasOwn(SENTENCES, code)) return SENTENCES[code]!;
  return fallback || (code ? `Something went wrong (${code}).` : 'Something went wrong.');
}

/**
 * Words for a failed HTTP answer of the Worker: `{ error, message, reason? }` bodies, 429 with
 * Retry-After, or a vendor's own error body passed through the proxy.
 * `body` is the parsed JSON, or undefined.
 */
export function describeFailure(status: number, body: unknown, headers: Headers): string {
  const record: Record<string, unknown> = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const error = typeof record['error'] === 'string' ? record['error'] : undefined;
  const reason = typeof record['reason'] === 'string' ? record['reason'] : undefined;
  const message = typeof record['message'] === 'string' ? record['message'] : typeof record['error_description'] === 'string' ? record['error_description'] : undefined;
  const parts: string[] = [];
  if (error && Object.hasOwn(SENTENCES, error)) parts.push(SENTENCES[error]!);
  if (reason && Object.hasOwn(SENTENCES, reason)) parts.push(SENTENCES[reason]!);
  if (parts.length === 0) {
    if (status === 401) parts.push('The vendor refused the call as unauthorized.');
    else if (status === 403) parts.push('The call was refused (forbidden).');
    else if (status === 404) parts.push('Not found.');
    else if (status === 429) parts.push('Too many requests.');
    else if (status >= 500) parts.push('The server failed or is unavailable.');
    else parts.push(`The call failed with HTTP ${status}.`);
  }
  if (status === 429) {
    const retry = headers.get('retry-after');
    if (retry) parts.push(`Retry after ${retry} second${retry === '1' ? '' : 's'}.`);
  }
  if (message && !parts.includes(message) && !(error && RESTATED.has(error))) parts.push(`(Server said: “${message}”)`);
  return parts.join(' ');
}

/** Words for an exception thrown by fetch or by the core. */
export function describeError(error: unknown): string {
  const coded = error as { code?: unknown; message?: unknown } | null;
  if (coded && typeof coded === 'object' && typeof coded.code === 'string') {
    return describeCode(coded.code, typeof coded.message === 'string' ? coded.message : undefined);
  }
  if (error instanceof TypeError) return 'The Worker did not answer (network error). Is `npm start` still running?';
  return error instanceof Error ? error.message : String(error);
}

/** "2 min 05 s", "45 s", "expired" */
export function formatRemaining(ms: number): string {
  if (ms <= 0) return 'expired';
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, '0')} min`;
  if (minutes > 0) return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
  return `${seconds} s`;
}

/** "Instacart" from "instacart". */
export function displayName(vendor: string): string {
  const names: Readonly<Record<string, string>> = { oauth2: 'OAuth 2.0 sandbox', instacart: 'Instacart', instabox: 'Instabox', eshopbox: 'Eshopbox', instellix: 'instellix', shopware: 'Shopware', echo: 'Echo' };
  return Object.hasOwn(names, vendor) ? names[vendor]! : vendor.charAt(0).toUpperCase() + vendor.slice(1);
}
