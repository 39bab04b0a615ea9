import { describe, expect, expectTypeOf, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { ErrorCode, isOAuthError, isTokenGateError, OAuthError, TokenGateError, type OAuthErrorCode } from '../../src/index.js';

describe('error codes', () => {
  it('every ErrorCode member is the module constant of the same name, and there is no other constant', () => {
    const constants = Object.entries(errors).filter(([name]) => name.startsWith('ERR_'));
    expect(constants.length).toBe(Object.keys(ErrorCode).length);
    for (const [key, value] of Object.entries(ErrorCode)) {
      expect(value).toBe(`ERR_${key}`);
      expect((errors as Record<string, unknown>)[value]).toBe(value);
    }
  });

  it('code is typed as the union of the exported codes (checked by tsc -p tsconfig.test.json)', () => {
    expectTypeOf<TokenGateError['code']>().toEqualTypeOf<ErrorCode | OAuthErrorCode>();
    expectTypeOf<TokenGateError<ErrorCode>['code']>().toEqualTypeOf<ErrorCode>();
    expectTypeOf(new TokenGateError(ErrorCode.TIMEOUT, 'x').code).toEqualTypeOf<'ERR_TIMEOUT'>();
    expectTypeOf<OAuthError['code']>().toEqualTypeOf<OAuthErrorCode>();
    // @ts-expect-error a misspelt code is not an ErrorCode
    const misspelt: TokenGateError<ErrorCode>['code'] = 'ERR_TIMEOUTT';
    expect(misspelt).toBe('ERR_TIMEOUTT');
  });

  it('codes are unique', () => {
    const values = Object.values(ErrorCode);
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('error classes', () => {
  it('TokenGateError carries code, status, retryAfter and cause, and is recognised across realms by its brand', () => {
    const cause = new Error('inner');
    const error = new TokenGateError(ErrorCode.TIMEOUT, 'slow', { status: 504, retryAfter: 1000, cause });
    expect(error).toMatchObject({ name: 'TokenGateError', code: 'ERR_TIMEOUT', status: 504, retryAfter: 1000, message: 'slow' });
    expect(error.cause).toBe(cause);
    expect(isTokenGateError(error)).toBe(true);
    expect(isOAuthError(error)).toBe(false);
    expect(isTokenGateError(new Error('x'))).toBe(false);
    expect(isTokenGateError({ code: 'ERR_TIMEOUT' })).toBe(false);
  });

  it('OAuthError names the endpoint and status in its message and keeps the server code as code', () => {
    const error = new OAuthError({ error: 'invalid_grant', description: 'expired', status: 400, endpoint: 'oauth2 token endpoint' });
    expect(error).toBeInstanceOf(TokenGateError);
    expect(error).toMatchObject({ name: 'OAuthError', code: 'invalid_grant', description: 'expired', status: 400 });
    expect(error.message).toBe('The oauth2 token endpoint (HTTP 400) answered invalid_grant: expired');
    expect(isOAuthError(error)).toBe(true);
    expect(new OAuthError({ error: 'access_denied' }).message).toBe('The authorization server answered access_denied');
  });
});
