import { describe, expect, it } from 'vitest';
import { createPkce } from 'tokengate';
import { oauth2 } from 'tokengate/profiles';

// Worker code imports the core by its package name; inside workerd that name resolves to the core.
describe('the core by package name inside workerd', () => {
  it('resolves tokengate and tokengate/profiles', async () => {
    expect((await createPkce()).method).toBe('S256');
    expect(oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c' }).name).toBe('oauth2');
  });
});
