/**
 * Proves the conformance harness itself with nothing but global fetch, so a
 * failure here points at the harness or oidc-provider config, never at
 * tokengate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, followAuthorization, startAuthServer } from './auth-server.js';
import type { AuthServer } from './auth-server.js';

interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
}

interface Metadata {
  authorization_endpoint: string;
  token_endpoint: string;
  authorization_response_iss_parameter_supported?: boolean;
}

interface AuthorizationResult {
  callback: URL;
  state: string;
  verifier: string;
}

let server: AuthServer;
let metadata: Metadata;

beforeAll(async () => {
  server = await startAuthServer();
  const response = await fetch(`${server.issuer}/.well-known/openid-configuration`);
  expect(response.status).toBe(200);
  metadata = (await response.json()) as Metadata;
});

afterAll(async () => {
  await server.close();
});

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

// RFC 6749 §2.3.1: id and secret are form-urlencoded before Base64.
function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${btoa(`${encode(clientId)}:${encode(clientSecret)}`)}`;
}

async function tokenRequest(
  params: Record<string, string>,
  authorization?: string,
): Promise<TokenResponse> {
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded' });
  if (authorization !== undefined) headers.set('authorization', authorization);
  const response = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const basic = (): string => basicAuth(CLIENTS.basic.clientId, CLIENTS.basic.clientSecret);

async function authorize(clientId: string, scope: string): Promise<AuthorizationResult> {
  const verifier = randomToken();
  const state = randomToken();
  const url = new URL(metadata.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CLIENTS.redirectUri,
    scope,
    state,
    code_challenge: await s256(verifier),
    code_challenge_method: 'S256',
  }).toString();
  const callback = new URL(await followAuthorization(url.href));
  return { callback, state, verifier };
}

function codeOf(result: AuthorizationResult): string {
  const code = result.callback.searchParams.get('code');
  if (code === null) throw new Error(`no code in callback: ${result.callback.href}`);
  return code;
}

async function exchangeWithBasic(code: string, verifier: string): Promise<TokenResponse> {
  return tokenRequest(
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CLIENTS.redirectUri,
      code_verifier: verifier,
    },
    basic(),
  );
}

describe('conformance auth server harness', () => {
  it('advertises RFC 9207 iss in authorization responses', () => {
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
  });

  it('client_credentials with client_secret_basic returns an access token', async () => {
    const before = server.tokenRequests;
    const { status, body } = await tokenRequest({ grant_type: 'client_credentials', scope: 'read' }, basic());
    expect(status).toBe(200);
    expect(body['access_token']).toEqual(expect.any(String));
    expect(body['token_type']).toBe('Bearer');
    expect(body['scope']).toBe('read');
    expect(server.tokenRequests).toBe(before + 1);
  });

  it('client_credentials with client_secret_post returns an access token', async () => {
    const { status, body } = await tokenRequest({
      grant_type: 'client_credentials',
      scope: 'read',
      client_id: CLIENTS.post.clientId,
      client_secret: CLIENTS.post.clientSecret,
    });
    expect(status).toBe(200);
    expect(body['access_token']).toEqual(expect.any(String));
  });

  it('rejects a wrong client secret with 401 invalid_client', async () => {
    const before = server.tokenRequests;
    const { status, body } = await tokenRequest(
      { grant_type: 'client_credentials', scope: 'read' },
      basicAuth(CLIENTS.basic.clientId, 'CANARY-wrong-secret'),
    );
    expect(status).toBe(401);
    expect(body['error']).toBe('invalid_client');
    expect(JSON.stringify(body)).not.toContain('CANARY');
    expect(server.tokenRequests).toBe(before + 1);
  });

  it('runs the authorization code + PKCE S256 flow without openid', async () => {
    const result = await authorize(CLIENTS.basic.clientId, 'read write');
    expect(result.callback.searchParams.get('state')).toBe(result.state);
    expect(result.callback.searchParams.get('iss')).toBe(server.issuer);

    const { status, body } = await exchangeWithBasic(codeOf(result), result.verifier);
    expect(status).toBe(200);
    expect(body['access_token']).toEqual(expect.any(String));
    expect(body['refresh_token']).toEqual(expect.any(String));
    expect(body['scope']).toBe('read write');
  });

  it('rotates refresh tokens and rejects the old one', async () => {
    const result = await authorize(CLIENTS.basic.clientId, 'read');
    const first = await exchangeWithBasic(codeOf(result), result.verifier);
    expect(first.status).toBe(200);
    const oldRefreshToken = first.body['refresh_token'];
    if (typeof oldRefreshToken !== 'string') throw new Error('no refresh_token issued');

    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: oldRefreshToken }, basic());
    expect(refreshed.status).toBe(200);
    expect(refreshed.body['access_token']).toEqual(expect.any(String));
    expect(refreshed.body['refresh_token']).toEqual(expect.any(String));
    expect(refreshed.body['refresh_token']).not.toBe(oldRefreshToken);

    const reused = await tokenRequest({ grant_type: 'refresh_token', refresh_token: oldRefreshToken }, basic());
    expect(reused.status).toBe(400);
    expect(reused.body['error']).toBe('invalid_grant');
  });

  it('rejects a reused authorization code with invalid_grant', async () => {
    const result = await authorize(CLIENTS.basic.clientId, 'read');
    const code = codeOf(result);
    expect((await exchangeWithBasic(code, result.verifier)).status).toBe(200);

    const again = await exchangeWithBasic(code, result.verifier);
    expect(again.status).toBe(400);
    expect(again.body['error']).toBe('invalid_grant');
  });

  it('rejects a wrong code_verifier with invalid_grant', async () => {
    const result = await authorize(CLIENTS.basic.clientId, 'read');
    const { status, body } = await exchangeWithBasic(codeOf(result), randomToken());
    expect(status).toBe(400);
    expect(body['error']).toBe('invalid_grant');
  });

  it('serves the public client (openid scope, no client authentication)', async () => {
    const result = await authorize(CLIENTS.public.clientId, 'openid read');
    expect(result.callback.searchParams.get('iss')).toBe(server.issuer);
    const { status, body } = await tokenRequest({
      grant_type: 'authorization_code',
      client_id: CLIENTS.public.clientId,
      code: codeOf(result),
      redirect_uri: CLIENTS.redirectUri,
      code_verifier: result.verifier,
    });
    expect(status).toBe(200);
    expect(body['access_token']).toEqual(expect.any(String));
    expect(body['refresh_token']).toEqual(expect.any(String));
    expect(body['id_token']).toEqual(expect.any(String));
  });
});
