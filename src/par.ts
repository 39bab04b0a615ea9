import { DEV } from '#dev';
import { ERR_INVALID_CONFIG, ERR_INVALID_RESPONSE, TokenGateError } from './errors.js';
import { postToEndpoint } from './grants.js';
import { checkEndpoint, type Profile } from './profile.js';
import { expectJson } from './token-response.js';
import { readJson } from './transport.js';
import type { RequestOptions } from './types.js';

/**
 * Pushes an authorization request's parameters to the profile's PAR endpoint with the client's
 * authentication (a JWT assertion too), and answers the `request_uri` the browser goes with.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-2
 */
export async function pushAuthorizationRequest(
  profile: Profile,
  params: Readonly<Record<string, string>>,
  options: RequestOptions = {},
): Promise<{ requestUri: string; expiresIn: number }> {
  const { response, label, timeout } = await postToEndpoint(profile, 'par', params, options);
  const value = expectJson(await readJson(response, { label, maxBytes: profile.maxResponseBytes, timeout, signal: options.signal }), response.status, label) as
    | { request_uri?: unknown; expires_in?: unknown }
    | null;
  // RFC 9126 §2.2: both are required.
  if (typeof value?.request_uri !== 'string' || value.request_uri === '' || typeof value.expires_in !== 'number') {
    throw new TokenGateError(ERR_INVALID_RESPONSE, DEV ? `The ${label} answer has a missing or invalid "request_uri" or "expires_in"` : `${label} "request_uri" "expires_in"`, { status: response.status });
  }
  return { requestUri: value.request_uri, expiresIn: value.expires_in };
}

/**
 * The profile with a PAR endpoint: `startAuthorization` then pushes when asked (`par: true`) or, with
 * `required`, always (and refuses `par: false`). `discover()` does this from the metadata; a client
 * that the server requires to push although its metadata does not say so (a per-client registration,
 * `require_pushed_authorization_requests` in RFC 9126 §6) takes `withPar(profile, { url: profile.parUrl, required: true })`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-5
 */
export function withPar<P extends Profile>(profile: P, options: { url: string; required?: boolean }): P {
  const required = options.required === true;
  return {
    ...profile,
    parUrl: checkEndpoint('parUrl', options.url),
    requirePar: required,
    pushAuthorization: async (pushing, url, request) => {
      if (request.par === false && required) {
        throw new TokenGateError(ERR_INVALID_CONFIG, DEV ? `The ${pushing.name} server takes authorization requests only pushed (PAR); par: false cannot be used with this profile` : `${pushing.name} par`);
      }
      if (!(request.par ?? required)) return url.href;
      const { requestUri } = await pushAuthorizationRequest(pushing, Object.fromEntries(url.searchParams), request);
      // RFC 9126 §4: everything went to the server directly; the browser carries only the reference.
      url.search = new URLSearchParams({ client_id: pushing.clientId, request_uri: requestUri }).toString();
      return url.href;
    },
  };
}
