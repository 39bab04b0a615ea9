import type { AnswerFault } from './faults.js';
import { json, raw } from './http.js';
import { randomToken } from './random.js';
import type { VendorName } from './types.js';

/** A login page, as an SSO proxy or captive portal answers in place of the token endpoint. */
const LOGIN_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><h1>Sign in</h1>
<form method="post" action="/login"><label>Username <input name="username"></label>
<label>Password <input type="password" name="password"></label><button type="submit">Sign in</button></form>
</body></html>
`;

/**
 * The first half of a success body in the vendor's dialect. The token in it is a throwaway random value
 * the sandbox never registers, and the cut always falls inside it, so the JSON can never parse.
 */
function truncatedBody(vendor: VendorName): string {
  const token = randomToken(48);
  const body =
    vendor === 'instabox'
      ? JSON.stringify({ status: 'OK', token })
      : JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
  const tokenStart = body.indexOf(token);
  return body.slice(0, tokenStart + Math.floor(token.length / 2));
}

/**
 * The answer a token-endpoint fault gives instead of the vendor's (all but `slow`, which only delays).
 * Faulted requests never reach the vendor logic: no token is issued and no vendor state changes.
 */
export function faultAnswer(fault: Exclude<AnswerFault, 'slow'>, retryAfter: number, vendor: VendorName): Response {
  switch (fault) {
    case '5xx':
      return json({ error: 'service_unavailable', message: 'The sandbox is simulating an outage' }, 503);
    case '429':
      return json({ error: 'too_many_requests', message: 'The sandbox is simulating a rate limit' }, 429, {
        'retry-after': String(retryAfter),
      });
    case 'truncated':
      return raw(truncatedBody(vendor), 200, 'application/json; charset=utf-8');
    case 'html':
      return raw(LOGIN_PAGE, 200, 'text/html; charset=utf-8');
  }
}
