// The token-mediating callback: the vendor sends the browser here with ?code&state(&iss) or ?error.
// It finds this browser's transaction by state (IndexedDB), consumes it, checks the answer and exchanges
// the code at the Worker's /token/<vendor> (which adds the client secret and keeps the refresh token).
import { describeError, displayName, formatRemaining } from './messages.ts';

/** An element of callback.html, which has them all. */
function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`callback.html has no #${id}`);
  return element;
}

const heading = byId('callback-heading');
const detail = byId('callback-detail');
const actions = byId('callback-actions');
const box = byId('callback');

function link(href: string, text: string, secondary = false): HTMLAnchorElement {
  const a = document.createElement('a');
  a.href = href;
  a.className = secondary ? 'button secondary' : 'button';
  a.textContent = text;
  return a;
}

function finish(kind: 'ok' | 'error', title: string, text: string, buttons: HTMLElement[]): void {
  box.classList.add(kind === 'ok' ? 'success' : 'failure');
  heading.textContent = title;
  detail.textContent = text;
  actions.replaceChildren(...buttons);
  heading.focus();
}

/** A same-origin path to return to (the embed's storefront page), else the demo. */
function backTo(returnTo: string | undefined): string {
  if (!returnTo) return '/';
  try {
    const url = new URL(returnTo, location.origin);
    return url.origin === location.origin ? `${url.pathname}${url.search}` : '/';
  } catch {
    return '/';
  }
}

async function main(): Promise<void> {
  const callbackUrl = location.href;
  const params = new URLSearchParams(location.search);
  // The code is single-use and bound to this browser's verifier, but it still does not belong in history.
  history.replaceState(null, '', location.pathname);
  if (!params.has('state') && !params.has('code') && !params.has('error')) {
    finish('error', 'Nothing to finish here', 'This page completes a sign-in started on the demo page. There is none in this address.', [link('/', 'Back to the demo')]);
    return;
  }
  let tg: typeof import('./tokengate-browser.ts');
  try {
    tg = await import('./tokengate-browser.ts');
  } catch {
    finish('error', 'The sign-in could not be finished', 'The page’s script could not be loaded (was the demo rebuilt meanwhile?). Start again from the demo.', [link('/', 'Back to the demo')]);
    return;
  }
  const vendor = await tg.vendorOfCallback(callbackUrl).catch(() => undefined);
  const name = vendor ? displayName(vendor) : 'the vendor';
  try {
    const done = await tg.completeMediatedLink(callbackUrl);
    const left = done.status.expiresAt ? ` It expires in ${formatRemaining(done.status.expiresAt - Date.now())}.` : '';
    finish(
      'ok',
      `Your ${displayName(done.vendor)} account is linked`,
      `This page holds an access token (kept in IndexedDB, never shown); the Worker keeps the refresh token.${left}`,
      [link(backTo(done.returnTo), done.returnTo ? 'Back to the shop' : 'Back to the demo')],
    );
  } catch (error) {
    const code = error && typeof error === 'object' && 'code' in error ? String(error.code) : undefined;
    const title = code === 'access_denied' ? `You did not link ${name}` : `Linking ${name} did not work`;
    finish('error', title, `${describeError(error)}${code ? ` (Error code: ${code})` : ''}`, [link(vendor ? `/#link-${vendor}` : '/', 'Try again from the demo'), link('/', 'Back to the demo', true)]);
  }
}

void main();
