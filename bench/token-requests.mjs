// Token requests made vs the minimum, for the concurrency patterns users get wrong, in-process.
import { createTokenSource } from '../dist/index.js';
import { oauth2 } from '../dist/profiles/index.js';

function endpoint(expiresIn) {
  const state = { requests: 0 };
  const fetch = async () => {
    state.requests++;
    await new Promise((resolve) => setTimeout(resolve, 2));
    return Response.json({ access_token: `at-${state.requests}`, token_type: 'Bearer', expires_in: expiresIn });
  };
  return { state, profile: oauth2({ tokenUrl: 'https://as.example/token', clientId: 'c', clientSecret: 's', fetch }) };
}

export async function tokenRequests() {
  const rows = [];
  {
    const { state, profile } = endpoint(3600);
    const source = createTokenSource(profile);
    await Promise.all(Array.from({ length: 1000 }, () => source.getToken()));
    rows.push({ what: '1,000 concurrent getToken() on a cold cache', value: state.requests, minimum: 1 });
  }
  {
    const { state, profile } = endpoint(60);
    const clock = { now: 0 };
    const source = createTokenSource(profile, { now: () => clock.now });
    for (let lifetime = 0; lifetime < 3; lifetime++) {
      clock.now = lifetime * 60_000 + 1;
      await Promise.all(Array.from({ length: 200 }, () => source.getToken()));
    }
    rows.push({ what: '200 concurrent calls in each of 3 token lifetimes', value: state.requests, minimum: 3 });
  }
  {
    const { state, profile } = endpoint(3600);
    const source = createTokenSource(profile);
    const first = await source.getToken();
    source.invalidate(first.accessToken);
    await source.getToken();
    const before = state.requests;
    for (let i = 0; i < 50; i++) source.invalidate(first.accessToken);
    await Promise.all(Array.from({ length: 50 }, () => source.getToken()));
    rows.push({ what: '50 late 401s carrying an already-replaced token (extra requests)', value: state.requests - before, minimum: 0 });
  }
  {
    const { state, profile } = endpoint(3600);
    const expired = { accessToken: 'old', tokenType: 'Bearer', expiresAt: Date.now() - 1, refreshToken: 'rt' };
    const source = createTokenSource(profile, { tokens: expired });
    await Promise.all(Array.from({ length: 20 }, () => source.getToken()));
    rows.push({ what: '20 concurrent calls with an expired token (refreshes)', value: state.requests, minimum: 1 });
  }
  return rows;
}
