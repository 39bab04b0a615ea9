import { base64Utf8, formEncode } from './encoding.js';

/**
 * Adds a client's credentials to a request to the token, revocation, introspection or PAR endpoint.
 * `params` becomes the form or JSON body; `headers` are the request headers. Asynchronous for JWT
 * assertions, which are signed per request.
 */
export type ClientAuthentication = (params: Record<string, string>, headers: Headers) => void | Promise<void>;

/** The registered names of RFC 7591 §2 that `oauth2({ auth })` accepts. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none' | 'private_key_jwt' | 'client_secret_jwt';

/**
 * HTTP Basic as RFC 6749 §2.3.1 defines it: id and secret are each form-encoded first, then joined
 * with `:` and base64-encoded, so a `:` or non-ASCII character in either survives.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
export function clientSecretBasic(clientId: string, clientSecret: string): ClientAuthentication {
  const value = `Basic ${btoa(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}`;
  return (_params, headers) => headers.set('authorization', value);
}

/**
 * HTTP Basic without the form-encoding step, `base64(client_id:client_secret)` over UTF-8, as vendors
 * document it when they show the header built by hand (instellix).
 */
export function clientSecretBasicPlain(clientId: string, clientSecret: string): ClientAuthentication {
  const value = `Basic ${base64Utf8(`${clientId}:${clientSecret}`)}`;
  return (_params, headers) => headers.set('authorization', value);
}

/**
 * `client_id` and `client_secret` in the request body; in a form or a JSON body, whichever the profile
 * encodes.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
export function clientSecretPost(clientId: string, clientSecret: string): ClientAuthentication {
  return (params) => {
    params['client_id'] = clientId;
    params['client_secret'] = clientSecret;
  };
}

/**
 * A public client: only `client_id` in the body (RFC 6749 §3.2.1).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.2.1
 */
export function noClientAuth(clientId: string): ClientAuthentication {
  return (params) => {
    params['client_id'] = clientId;
  };
}
