/**
 * Where the test authorization server (auth-server.ts) answers its own request log as JSON: not an
 * oidc-provider route. Apart from auth-server.ts so that tests in workerd, where that process's memory
 * is out of reach, can import it without Node's modules.
 */
export const REQUEST_LOG_PATH = '/_test/requests';

/**
 * A resource of the test authorization server that answers 401 to every token, valid or not (a scope
 * or per-resource refusal), for the renewal budget's tests (docs/security.md row 23).
 */
export const REFUSING_RESOURCE_PATH = '/refused';
