import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../worker/config.js';
import { generateKeyRingSecret } from '../../worker/crypto.js';
import { instaboxVendor } from './helpers.js';

// Configuration mistakes: one clear error naming each key, never a secret value, never a stack.
const fetch = (async () => new Response(null)) as typeof globalThis.fetch;
/** A key ring of this run: outside loopback one published in the repository is refused. */
const KEYS = generateKeyRingSecret('k1');
const SECRET = 'CANARY-config-secret-71c2';

/** A stand-in for a Rate Limiting binding that never refuses. */
const limiter = { limit: async () => ({ success: true }) };

function base(): Record<string, unknown> {
  return {
    RL_CALLER: limiter,
    RL_FLOW_CALLER: limiter,
    RL_STATUS: limiter,
    PUBLIC_ORIGIN: 'https://edge.example',
    ALLOWED_ORIGINS: ['https://shop.example'],
    TOKENGATE_KEYS: KEYS,
    INSTABOX_CLIENT_SECRET: SECRET,
    VENDORS: { instabox: instaboxVendor() },
  };
}

function problems(env: Record<string, unknown>): string {
  try {
    loadConfig(env, fetch);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(KEYS.slice(3));
    expect(message).not.toMatch(/\bat .*\.ts:\d+/); // no stack frames
    return message;
  }
  throw new Error('expected a configuration error');
}

describe('worker configuration', () => {
  it('accepts a correct configuration and builds the vendor', () => {
    const config = loadConfig(base(), fetch);
    expect(config.vendors.get('instabox')?.upstream.href).toBe('https://webshopintegrations.instabox.se/');
    expect(config.sandboxOrigin).toBeUndefined();
  });

  const cases: [string, (env: Record<string, unknown>) => void, string][] = [
    ['a missing PUBLIC_ORIGIN', (env) => delete env['PUBLIC_ORIGIN'], 'PUBLIC_ORIGIN'],
    ['an origin with a path', (env) => (env['ALLOWED_ORIGINS'] = ['https://shop.example/app']), 'ALLOWED_ORIGINS.0'],
    ['an unknown profile', (env) => ((env['VENDORS'] as Record<string, Record<string, unknown>>)['instabox']!['profile'] = 'acme'), 'VENDORS.instabox.profile'],
    ['a malformed route', (env) => ((env['VENDORS'] as Record<string, Record<string, unknown>>)['instabox']!['routes'] = [{ method: 'GET', path: 'v2//orders' }]), 'VENDORS.instabox.routes'],
    ['a bad method', (env) => ((env['VENDORS'] as Record<string, Record<string, unknown>>)['instabox']!['routes'] = [{ method: 'TRACE', path: '/x' }]), 'VENDORS.instabox.routes.0.method'],
    ['a missing secret', (env) => delete env['INSTABOX_CLIENT_SECRET'], 'INSTABOX_CLIENT_SECRET'],
    ['a missing key ring', (env) => delete env['TOKENGATE_KEYS'], 'TOKENGATE_KEYS'],
    ['a missing rate limiting binding', (env) => delete env['RL_FLOW_CALLER'], 'RL_FLOW_CALLER: the rate limiting binding is missing'],
    ['a short key', (env) => (env['TOKENGATE_KEYS'] = 'k1:AAECAwQ'), 'TOKENGATE_KEYS'],
    ['a key route without an API key', (env) => ((env['VENDORS'] as Record<string, Record<string, unknown>>)['instabox']!['routes'] = [{ method: 'POST', path: '/v2/orders', access: 'key' }]), 'TOKENGATE_API_KEY'],
    ['a profile option the vendor refuses', (env) => ((env['VENDORS'] as Record<string, Record<string, unknown>>)['instabox']!['options'] = { clientId: 'id', tokenUrl: 'http://plain.example/token' }), 'VENDORS.instabox'],
  ];
  for (const [name, change, key] of cases) {
    it(`names the key for ${name}`, () => {
      const env = base();
      change(env);
      expect(problems(env)).toContain(key);
    });
  }

  it('reports several problems at once', () => {
    const env = base();
    delete env['INSTABOX_CLIENT_SECRET'];
    delete env['TOKENGATE_KEYS'];
    const message = problems(env);
    expect(message).toContain('INSTABOX_CLIENT_SECRET');
    expect(message).toContain('TOKENGATE_KEYS');
  });

  it('has no demo values: with a sandbox origin, a missing secret is still a missing secret', () => {
    const env = base();
    env['PUBLIC_ORIGIN'] = 'http://127.0.0.1:8787';
    env['SANDBOX_ORIGIN'] = 'http://127.0.0.1:8788';
    delete env['INSTABOX_CLIENT_SECRET'];
    expect(problems(env)).toContain('INSTABOX_CLIENT_SECRET');
  });

  it('takes {SANDBOX_ORIGIN} in vendor options only on loopback (row 27)', () => {
    const env = base();
    env['PUBLIC_ORIGIN'] = 'http://127.0.0.1:8787';
    env['SANDBOX_ORIGIN'] = 'http://127.0.0.1:8788';
    (env['VENDORS'] as Record<string, Record<string, unknown>>)['instabox']!['options'] = { clientId: 'id', tokenUrl: '{SANDBOX_ORIGIN}/instabox/v1/token', apiBaseUrl: '{SANDBOX_ORIGIN}/instabox' };
    const config = loadConfig(env, fetch);
    expect(config.sandboxOrigin).toBe('http://127.0.0.1:8788');
    expect(config.vendors.get('instabox')?.upstream.href).toBe('http://127.0.0.1:8788/instabox/');
    delete env['SANDBOX_ORIGIN'];
    expect(problems(env)).toContain('VENDORS.instabox.options.tokenUrl: says {SANDBOX_ORIGIN}');
  });

  it('refuses a sandbox unless both origins are loopback (row 27)', () => {
    for (const [publicOrigin, sandboxOrigin] of [
      ['https://edge.example', 'http://127.0.0.1:8788'],
      ['http://127.0.0.1:8787', 'https://sandbox.example'],
      ['http://10.0.0.5:8787', 'http://127.0.0.1:8788'],
    ] as const) {
      const env = base();
      env['PUBLIC_ORIGIN'] = publicOrigin;
      env['SANDBOX_ORIGIN'] = sandboxOrigin;
      expect(problems(env), `${publicOrigin} with ${sandboxOrigin}`).toContain('SANDBOX_ORIGIN: the vendor sandbox is for local development only');
    }
  });
});

describe('values from wrangler dev --var', () => {
  it('takes ALLOWED_ORIGINS as a comma-separated string', () => {
    const env = base();
    env['ALLOWED_ORIGINS'] = 'https://a.example, https://b.example';
    expect(loadConfig(env, fetch).allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    env['ALLOWED_ORIGINS'] = 'https://a.example/path';
    expect(problems(env)).toContain('ALLOWED_ORIGINS');
  });
});

describe('private_key_jwt and PAR from the configuration', () => {
  const CANARY_D = 'CANARYkeymaterial0123456789abcdef';
  async function privateJwk(): Promise<{ jwk: string; pem: string }> {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const der = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer);
    const pem = `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...der))}\n-----END PRIVATE KEY-----`;
    return { jwk: JSON.stringify({ ...(await crypto.subtle.exportKey('jwk', pair.privateKey)), kid: 'k-1' }), pem };
  }
  function jwtEnv(key: string, options: Record<string, unknown> = {}): Record<string, unknown> {
    const env = base();
    env['ACME_CLIENT_KEY'] = key;
    (env['VENDORS'] as Record<string, unknown>)['acme'] = {
      profile: 'oauth2',
      options: { clientId: 'acme-client', tokenUrl: 'https://as.example/token', authorizeUrl: 'https://as.example/auth', apiBaseUrl: 'https://api.example', grant: 'none', ...options },
      secrets: { clientKey: 'ACME_CLIENT_KEY' },
    };
    return env;
  }
  const decode = (part: string) => JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;

  it('a JWK secret signs assertions (iss = sub = client id, aud = token endpoint, its kid); parUrl makes every link pushed', async () => {
    const { jwk } = await privateJwk();
    const profile = loadConfig(jwtEnv(jwk, { parUrl: 'https://as.example/par' }), fetch).vendors.get('acme')!.profile;
    expect(profile.parUrl).toBe('https://as.example/par');
    expect(profile.requirePar).toBe(true);
    const params: Record<string, string> = {};
    await profile.clientAuth(params, new Headers());
    expect(params['client_assertion_type']).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const [header, payload] = params['client_assertion']!.split('.').map((part, i) => (i < 2 ? decode(part) : part)) as Record<string, unknown>[];
    expect(header).toMatchObject({ alg: 'ES256', kid: 'k-1' });
    expect(payload).toMatchObject({ iss: 'acme-client', sub: 'acme-client', aud: 'https://as.example/token' });
  });

  it('a PEM secret with clientKeyId and assertionAudience "issuer"', async () => {
    const { pem } = await privateJwk();
    const profile = loadConfig(jwtEnv(pem, { clientKeyId: 'pem-1', assertionAudience: 'issuer', issuer: 'https://as.example' }), fetch).vendors.get('acme')!.profile;
    const params: Record<string, string> = {};
    await profile.clientAuth(params, new Headers());
    const [header, payload] = params['client_assertion']!.split('.').slice(0, 2).map(decode);
    expect(header).toMatchObject({ kid: 'pem-1' });
    expect(payload).toMatchObject({ aud: 'https://as.example' });
  });

  const wrong: [string, string, string][] = [
    ['neither JSON nor PEM', `not a key ${CANARY_D}`, 'must hold a private JWK (JSON) or a PKCS#8 PEM'],
    ['broken JSON', `{"kty":"EC","d":"${CANARY_D}"`, 'is not valid JSON'],
    ['a public JWK', JSON.stringify({ kty: 'EC', crv: 'P-256', x: CANARY_D, y: CANARY_D }), 'is a public key'],
    ['a SEC1 PEM', `-----BEGIN EC PRIVATE KEY-----\n${CANARY_D}\n-----END EC PRIVATE KEY-----`, 'is not an unencrypted PKCS#8 private key'],
    ['a symmetric JWK', JSON.stringify({ kty: 'oct', k: CANARY_D }), 'must be an EC P-256 or RSA key'],
  ];
  for (const [name, value, expected] of wrong) {
    it(`names the key and the secret, never its content, for ${name}`, () => {
      const message = problems(jwtEnv(value));
      expect(message).toContain(`VENDORS.acme.secrets.clientKey: `);
      expect(message).toContain('ACME_CLIENT_KEY');
      expect(message).toContain(expected);
      expect(message).not.toContain(CANARY_D);
    });
  }

  it('refuses a bad assertionAudience, a non-string parUrl, and clientKey on a vendor profile', () => {
    expect(problems(jwtEnv('{}', { assertionAudience: 'everyone' }))).toContain('VENDORS.acme.options.assertionAudience: must be "token_endpoint" or "issuer"');
    expect(problems(jwtEnv('{}', { parUrl: true }))).toContain('VENDORS.acme.options.parUrl');
    const env = base();
    env['ACME_CLIENT_KEY'] = 'x';
    (env['VENDORS'] as Record<string, Record<string, unknown>>)['instabox']!['secrets'] = { clientSecret: 'INSTABOX_CLIENT_SECRET', clientKey: 'ACME_CLIENT_KEY' };
    expect(problems(env)).toContain('VENDORS.instabox: secrets.clientKey, options.parUrl and options.dpop are for the oauth2 profile');
  });

  it('options.dpop: true or false, and only on the oauth2 profile', () => {
    expect(problems(jwtEnv('{}', { dpop: 'yes' }))).toContain('VENDORS.acme.options.dpop: must be true or false');
    const env = base();
    (env['VENDORS'] as Record<string, Record<string, Record<string, unknown>>>)['instabox']!['options']!['dpop'] = true;
    expect(problems(env)).toContain('VENDORS.instabox: secrets.clientKey, options.parUrl and options.dpop are for the oauth2 profile');
  });

  it('a PEM that is not a key loads, then its first assertion is a secret-free ERR_INVALID_CONFIG naming the secret', async () => {
    const profile = loadConfig(jwtEnv(`-----BEGIN PRIVATE KEY-----\n${btoa(CANARY_D)}\n-----END PRIVATE KEY-----`), fetch).vendors.get('acme')!.profile;
    const error = (await Promise.resolve().then(() => profile.clientAuth({}, new Headers())).then(() => undefined, (e: unknown) => e)) as Error & { code: string };
    expect(error).toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    expect(error.message).toContain('VENDORS.acme.secrets.clientKey: the key in the Worker secret ACME_CLIENT_KEY could not be imported');
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(btoa(CANARY_D));
  });
});
