import { describe, expect, it } from 'vitest';
import { computeChallenge, createPkce, createState, ErrorCode } from '../../src/index.js';

describe('PKCE (RFC 7636)', () => {
  it('matches the RFC 7636 Appendix B vector', async () => {
    await expect(computeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('always uses S256 and makes verifiers of 43 to 128 unreserved characters', async () => {
    const seen = new Set<string>();
    for (let length = 43; length <= 128; length++) {
      const pkce = await createPkce({ length });
      expect(pkce.method).toBe('S256');
      expect(pkce.verifier).toMatch(/^[A-Za-z0-9\-._~]+$/);
      expect(pkce.verifier).toHaveLength(length);
      expect(pkce.challenge).toBe(await computeChallenge(pkce.verifier));
      expect(pkce.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      seen.add(pkce.verifier);
    }
    expect(seen.size).toBe(86);
  });

  it('defaults to a 43-character verifier carrying 256 bits', async () => {
    const { verifier } = await createPkce();
    expect(verifier).toHaveLength(43);
  });

  it('refuses verifiers RFC 7636 does not allow', async () => {
    for (const bad of ['short', 'a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)} `, `${'a'.repeat(42)}/`]) {
      await expect(computeChallenge(bad)).rejects.toMatchObject({ code: ErrorCode.INVALID_VERIFIER });
    }
    for (const length of [0, 42, 129, 50.5]) {
      await expect(createPkce({ length })).rejects.toMatchObject({ code: ErrorCode.INVALID_VERIFIER });
    }
  });

  it('makes unpredictable state values', () => {
    const states = new Set(Array.from({ length: 200 }, () => createState()));
    expect(states.size).toBe(200);
    for (const state of states) expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
