import { readJsonObject, type Params } from './body.js';
import { json } from './http.js';
import { instacartErrors, invalidParameter, requireInstacartToken, type InstacartError } from './instacart-errors.js';
import { randomToken } from './random.js';
import type { RouteContext } from './route.js';

/** Instacart authorization codes are short-lived: the sandbox gives them 60 s. */
const CODE_LIFETIME_MS = 60_000;
/** An S256 challenge is the base64url of a SHA-256 digest: 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

function optionalName(params: Params, key: string, fallback: string, errors: InstacartError[]): string {
  const value = params.get(key);
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length > 100) errors.push(invalidParameter(key));
  return typeof value === 'string' ? value : fallback;
}

/**
 * `POST /instacart/v2/fulfillment_sandbox/instacart_users` (FulfillmentSandbox.CreateInstacartUser, named
 * by Instacart doc 004): makes a test user to link. App token; optional JSON `{first_name, last_name}`.
 * Answers `{"id": <integer>}`.
 */
export async function createInstacartUser(context: RouteContext): Promise<Response> {
  const auth = requireInstacartToken(context, 'app');
  if (!auth.ok) return auth.response;
  const params = await readJsonObject(context.request);
  if (params === undefined) return instacartErrors(400, [invalidParameter('body')]);
  const errors: InstacartError[] = [];
  const firstName = optionalName(params, 'first_name', 'Sandbox', errors);
  const lastName = optionalName(params, 'last_name', 'Shopper', errors);
  const [first, ...rest] = errors;
  if (first !== undefined) return instacartErrors(400, [first, ...rest]);
  const { state } = context;
  const id = state.nextInstacartUserId++;
  state.instacartUsers.set(id, { id, firstName, lastName });
  return json({ id });
}

function requiredString(params: Params, key: string, errors: InstacartError[]): string | undefined {
  const value = params.get(key);
  if (typeof value === 'string' && value.trim() !== '') return value;
  errors.push(invalidParameter(key));
  return undefined;
}

/** RFC 6749 §3.1.2: an absolute URI without a fragment. */
function isRedirectUri(value: string): boolean {
  return !value.includes('#') && URL.canParse(value);
}

interface AuthorizeFields {
  readonly redirectUri: string;
  readonly scope: string;
  readonly challenge: string;
}

/** The authorize body's fields, each problem pushed onto `errors`; undefined when any is wrong. */
function authorizeFields(params: Params, errors: InstacartError[]): AuthorizeFields | undefined {
  const before = errors.length;
  const redirectUri = requiredString(params, 'redirect_uri', errors);
  if (redirectUri !== undefined && !isRedirectUri(redirectUri)) errors.push(invalidParameter('redirect_uri'));
  const scope = requiredString(params, 'scope', errors);
  const method = requiredString(params, 'code_challenge_method', errors);
  // Instacart doc 004 leaves the methods open; the sandbox takes S256 only, as RFC 9700 §2.1.1 asks.
  if (method !== undefined && method !== 'S256') errors.push(invalidParameter('code_challenge_method'));
  const challenge = requiredString(params, 'code_challenge', errors);
  if (challenge !== undefined && !S256_CHALLENGE.test(challenge)) errors.push(invalidParameter('code_challenge'));
  if (errors.length > before || redirectUri === undefined || scope === undefined || challenge === undefined) return undefined;
  return { redirectUri, scope, challenge };
}

/**
 * `POST /instacart/v2/fulfillment_sandbox/instacart_users/{user_id}/authorize`, exactly as Instacart doc 004:
 * app bearer token, JSON `{redirect_uri, scope, code_challenge_method, code_challenge}` → `{"code": ...}`.
 * Every problem found is reported: one as `{"error":{...}}`, several as `{"errors":[...]}`, each
 * `{"message":"Invalid <field>","code":1001,"meta":{"key":"<field>"}}`. All four fields are required.
 */
export async function authorizeInstacartUser(context: RouteContext): Promise<Response> {
  const auth = requireInstacartToken(context, 'app');
  if (!auth.ok) return auth.response;
  const { state } = context;
  const errors: InstacartError[] = [];

  const rawUserId = context.params['user_id'] ?? '';
  const userId = /^[1-9][0-9]{0,14}$/.test(rawUserId) ? Number(rawUserId) : undefined;
  if (userId === undefined || !state.instacartUsers.has(userId)) errors.push(invalidParameter('user_id'));

  const params = await readJsonObject(context.request);
  if (params === undefined) errors.push(invalidParameter('body'));
  const fields = params === undefined ? undefined : authorizeFields(params, errors);

  const [first, ...rest] = errors;
  if (first !== undefined) return instacartErrors(400, [first, ...rest]);
  if (userId === undefined || fields === undefined) return instacartErrors(400, [invalidParameter('body')]); // unreachable

  const code = randomToken(32);
  state.instacartCodes.set(code, {
    userId,
    clientId: auth.record.clientId,
    redirectUri: fields.redirectUri,
    scope: fields.scope,
    codeChallenge: fields.challenge,
    expiresAt: state.config.now() + CODE_LIFETIME_MS,
    family: randomToken(16),
    used: false,
  });
  return json({ code });
}
