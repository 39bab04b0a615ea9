/**
 * The storefront embed: `<tokengate-link vendor="instacart" mode="bff|mediated">` and `call(vendor, path)`.
 *
 * A storefront page drops in
 *
 *   <script type="module" src="https://edge.shop.example/dist/tokengate-embed.js"></script>
 *   <tokengate-link vendor="instacart" mode="bff"></tokengate-link>
 *
 * The Worker is where the script came from (its origin, and its BASE_PATH when it is mounted on a path
 * of the shop's host, `/tokengate/dist/tokengate-embed.js`); a `worker="https://edge.shop.example"`
 * attribute or `configure({ worker })` says otherwise. It must be on the storefront's own site: a page
 * of another site cannot keep the Worker's session cookie, which the element finds out on load (a
 * probe) and says, with a `tokengate-error` event of code `cross_site_worker`.
 *
 * and gets a "Link your Instacart account" button that shows the linked state and offers Unlink.
 * `bff`: the Worker runs the whole flow and keeps every token. `mediated`: this page runs PKCE and holds
 * only a short-lived access token (see web-demo/src/mediated.ts). Either way the storefront calls the
 * vendor through the Worker with `call()`, which adds the CSRF header; the session cookie rides along.
 * The script a page loads holds only the BFF half; the mediated half (the core: PKCE, token checks, the
 * token source) is a separate chunk fetched the first time an element in `mediated` mode is used (a
 * click on Link or Unlink), never at page load.
 *
 * Events (bubbling, composed): `tokengate-linked`, `tokengate-unlinked`, `tokengate-error`
 * (`detail: { vendor, code?, message }`). Style it with `::part(button)` (also `link` / `unlink`),
 * `::part(status)`, `::part(message)` and the `--tokengate-accent`, `--tokengate-on-accent`,
 * `--tokengate-error`, `--tokengate-focus` and `--tokengate-radius` custom properties (README, "3. Storefront embed").
 */
import { describeCode, describeError, displayName, formatRemaining } from '../../src/messages.ts';
import { call, linkStatus, probeSession, setWorkerBase, startBffLink, unlinkSession, workerOrigin, type SessionProblem } from '../../src/worker-client.ts';

type Mediated = typeof import('../../src/mediated.ts');

/**
 * The token-mediating half, fetched on first use (a click on Link or Unlink of a `mediated` element),
 * never at page load: most storefronts use `bff` and never fetch it. Until then an element shows the
 * Worker's view of the link, which knows a mediated session too.
 */
let mediatedChunk: Promise<Mediated> | undefined;
const mediated = (): Promise<Mediated> => (mediatedChunk ??= import('../../src/mediated.ts'));

export { call };

/** Where the script was loaded from: `<worker>/dist/tokengate-embed.js`, so `<worker>` is the Worker. */
setWorkerBase(new URL('..', import.meta.url).href);

/** Names the Worker for every element of this page (instead of where the script came from). */
export function configure(options: { worker: string }): void {
  setWorkerBase(options.worker);
}

const STYLE = `
  :host { display: block; font: inherit; color: inherit; --tokengate-accent: #1d4ed8; }
  :host([hidden]) { display: none; }
  .row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
  button { font: inherit; cursor: pointer; padding: .5rem 1rem; border-radius: var(--tokengate-radius, 6px); border: 2px solid var(--tokengate-accent);
    background: var(--tokengate-accent); color: var(--tokengate-on-accent, #fff); }
  button[hidden] { display: none; }
  button.secondary { background: transparent; color: var(--tokengate-accent); }
  button:focus-visible { outline: 3px solid var(--tokengate-focus, #f59e0b); outline-offset: 2px; }
  button[aria-disabled='true'] { opacity: .6; cursor: progress; }
  .status { margin: 0; }
  .message { margin: .5rem 0 0; }
  .message:empty { display: none; }
  .message.error { color: var(--tokengate-error, #b42318); }
`;

type Mode = 'bff' | 'mediated';

let shared: CSSStyleSheet | undefined;
function sheet(): CSSStyleSheet {
  if (shared === undefined) {
    shared = new CSSStyleSheet();
    shared.replaceSync(STYLE);
  }
  return shared;
}

export class TokengateLink extends HTMLElement {
  static observedAttributes = ['vendor', 'mode', 'label', 'worker'];

  readonly #root: ShadowRoot;
  readonly #status: HTMLParagraphElement;
  readonly #linkButton: HTMLButtonElement;
  readonly #unlinkButton: HTMLButtonElement;
  readonly #message: HTMLParagraphElement;
  #expiresAt: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #linked = false;
  /** Whether the linked state has been read once (before that, a change is no news). */
  #loaded = false;
  /** Set when this page cannot keep a session with the Worker (another site): nothing can work. */
  #problem: SessionProblem | undefined;
  /** A BFF link came back to this page: said and announced once the Worker confirms it. */
  #returnedLinked = false;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    // A constructed stylesheet, not a <style> element: a storefront's CSP without 'unsafe-inline' allows it.
    this.#root.adoptedStyleSheets = [sheet()];
    const row = document.createElement('div');
    row.className = 'row';
    this.#status = document.createElement('p');
    this.#status.className = 'status';
    // Not a live region: it counts the token's time down every second. Changes are said in the message.
    this.#status.setAttribute('part', 'status');
    this.#linkButton = document.createElement('button');
    this.#linkButton.type = 'button';
    this.#linkButton.setAttribute('part', 'button link');
    this.#linkButton.addEventListener('click', () => void this.#link());
    this.#unlinkButton = document.createElement('button');
    this.#unlinkButton.type = 'button';
    this.#unlinkButton.className = 'secondary';
    this.#unlinkButton.setAttribute('part', 'button unlink');
    this.#unlinkButton.addEventListener('click', () => void this.#unlink());
    this.#message = document.createElement('p');
    this.#message.className = 'message';
    this.#message.setAttribute('part', 'message');
    // The one live region: each outcome (linked, unlinked, an error) is announced once.
    this.#message.setAttribute('role', 'status');
    this.#message.setAttribute('aria-live', 'polite');
    row.append(this.#linkButton, this.#unlinkButton);
    this.#root.append(this.#status, row, this.#message);
  }

  get vendor(): string {
    return this.getAttribute('vendor') ?? '';
  }

  get mode(): Mode {
    return this.getAttribute('mode') === 'mediated' ? 'mediated' : 'bff';
  }

  connectedCallback(): void {
    this.#useWorkerAttribute();
    this.#render();
    this.#readReturn();
    void this.refresh();
    this.#timer = setInterval(() => this.#renderStatus(), 1000);
  }

  disconnectedCallback(): void {
    clearInterval(this.#timer);
  }

  attributeChangedCallback(name: string): void {
    if (name === 'worker') this.#useWorkerAttribute();
    if (this.isConnected && name !== 'worker') {
      this.#render();
      void this.refresh();
    }
  }

  #useWorkerAttribute(): void {
    const worker = this.getAttribute('worker');
    if (worker === null || worker === '') return;
    try {
      setWorkerBase(worker);
    } catch (error) {
      this.#say(describeError(error), true);
    }
  }

  /** This page cannot keep a session with the Worker: say so once, plainly, and offer nothing to press. */
  #cannotWork(problem: SessionProblem): void {
    if (this.#problem !== undefined) return;
    this.#problem = problem;
    this.#render();
    this.#say(problem.message, true);
    afterLoad(() => this.#emit('tokengate-error', { code: problem.code, message: problem.message, worker: workerOrigin() }));
  }

  /** Reads the linked state again (the Worker's session, and the page's token in mediated mode). */
  async refresh(): Promise<void> {
    const vendor = this.vendor;
    if (!vendor) return;
    // First (once per page): can this page keep the Worker's session at all? On another site it cannot,
    // and the element says so now instead of failing on the first click.
    const problem = await probeSession();
    if (problem !== undefined) return this.#cannotWork(problem);
    try {
      const server = await linkStatus(vendor);
      // The page's own token adds its expiry, once the mediated half is here; reading it never fetches that half.
      const page = this.mode === 'mediated' && mediatedChunk ? await (await mediatedChunk).mediatedStatus(vendor) : undefined;
      const linked = server.linked || page?.linked === true;
      // A result line about the old state (e.g. "linked", after another element unlinked) would mislead.
      if (this.#loaded && linked !== this.#linked) this.#say('');
      this.#linked = linked;
      this.#loaded = true;
      this.#expiresAt = page?.expiresAt ?? server.expiresAt;
      // One state, the Worker's: a `?linked=` the Worker does not confirm (an old address) says nothing.
      if (this.#returnedLinked) {
        this.#returnedLinked = false;
        if (linked) {
          this.#say(`Your ${displayName(vendor)} account is linked.`);
          afterLoad(() => this.#emit('tokengate-linked', { mode: 'bff' }));
        }
      }
    } catch (error) {
      this.#linked = false;
      this.#expiresAt = undefined;
      this.#say(describeError(error), true);
    }
    this.#render();
  }

  #render(): void {
    const name = displayName(this.vendor);
    this.#linkButton.textContent = this.getAttribute('label') ?? `Link your ${name} account`;
    this.#linkButton.hidden = this.#linked;
    this.#unlinkButton.textContent = `Unlink ${name}`;
    this.#unlinkButton.hidden = !this.#linked;
    // Nothing to press when it cannot work; aria-disabled keeps the button in the focus order, with its reason.
    if (this.#problem !== undefined) this.#linkButton.setAttribute('aria-disabled', 'true');
    this.#renderStatus();
  }

  #renderStatus(): void {
    const name = displayName(this.vendor);
    if (this.#problem !== undefined) {
      this.#status.textContent = `Linking your ${name} account is not available on this page.`;
      return;
    }
    if (!this.#linked) {
      this.#status.textContent = `Your ${name} account is not linked.`;
      return;
    }
    const left = this.#expiresAt === undefined ? '' : ` Access token: ${formatRemaining(this.#expiresAt - Date.now())} left.`;
    this.#status.textContent = `Your ${name} account is linked.${left}`;
  }

  #say(text: string, isError = false): void {
    this.#message.textContent = text;
    this.#message.classList.toggle('error', isError);
  }

  #emit(type: string, detail: Record<string, unknown>): void {
    this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail: { vendor: this.vendor, ...detail } }));
  }

  /**
   * A BFF round trip ends back on this page with `?linked=<vendor>` or `?link_error=<code>&vendor=<vendor>`.
   * The element takes them out of the address (`history.replaceState`), so a reload, a bookmark or a
   * shared link does not announce the link again. Events wait for the page's load: this script runs
   * before the page's own scripts, whose listeners would otherwise miss them.
   */
  #readReturn(): void {
    // Only a BFF round trip comes back this way, and one link is one event: the first BFF element of
    // that vendor claims the outcome; the others (a second element, a mediated one) only refresh.
    if (this.mode !== 'bff' || claimedReturns.has(this.vendor)) return;
    const params = new URLSearchParams(location.search);
    if (params.get('linked') !== this.vendor && params.get('vendor') !== this.vendor) return;
    claimedReturns.add(this.vendor);
    dropOutcomeParams();
    if (params.get('linked') === this.vendor) {
      // Said once the Worker's state is read (refresh), so the element never says two things.
      this.#returnedLinked = true;
    } else if (params.get('link_error')) {
      const code = params.get('link_error') ?? '';
      this.#say(`${describeCode(code)} You can try again.`, true);
      afterLoad(() => this.#emit('tokengate-error', { code, message: describeCode(code) }));
    }
  }

  async #link(): Promise<void> {
    const vendor = this.vendor;
    if (!vendor) return;
    if (this.#problem !== undefined || this.#linkButton.getAttribute('aria-disabled') === 'true') return;
    if (this.mode === 'bff') {
      // The Worker sends the browser back to this page with the outcome: a path when the page is on
      // its origin, else this URL (the Worker takes it only when its origin is in ALLOWED_ORIGINS).
      const back = workerOrigin() === location.origin ? `${location.pathname}${location.search}` : `${location.origin}${location.pathname}${location.search}`;
      try {
        location.assign(await startBffLink(vendor, back));
      } catch (error) {
        const code = (error as { code?: string }).code;
        this.#say(`${describeError(error)} You can try again.`, true);
        this.#emit('tokengate-error', { code, message: describeError(error) });
      }
      return;
    }
    // aria-disabled, not disabled: a disabled button drops keyboard focus.
    this.#linkButton.setAttribute('aria-disabled', 'true');
    this.#say(`Linking your ${displayName(vendor)} account…`);
    try {
      const result = await (await mediated()).startMediatedLink(vendor, { returnTo: location.href });
      if (result.kind === 'redirect') {
        location.assign(result.url);
        return;
      }
      await this.refresh();
      this.#say(`Your ${displayName(vendor)} account is linked.`);
      this.#emit('tokengate-linked', { mode: 'mediated' });
      // The link button is hidden now: keep keyboard focus inside the element.
      this.#unlinkButton.focus();
    } catch (error) {
      const code = (error as { code?: string }).code;
      this.#say(`${describeError(error)} You can try again.`, true);
      this.#emit('tokengate-error', { code, message: describeError(error) });
    } finally {
      this.#linkButton.removeAttribute('aria-disabled');
    }
  }

  async #unlink(): Promise<void> {
    if (this.#unlinkButton.getAttribute('aria-disabled') === 'true') return;
    this.#unlinkButton.setAttribute('aria-disabled', 'true');
    try {
      // In BFF mode the page holds no token of its own: the Worker's unlink is all there is to do.
      if (this.mode === 'mediated') await (await mediated()).unlink(this.vendor);
      else await unlinkSession(this.vendor);
      await this.refresh();
      this.#say(`Your ${displayName(this.vendor)} account is unlinked.`);
      this.#emit('tokengate-unlinked', {});
      this.#linkButton.focus();
    } catch (error) {
      this.#say(describeError(error), true);
      this.#emit('tokengate-error', { code: (error as { code?: string }).code, message: describeError(error) });
    } finally {
      this.#unlinkButton.removeAttribute('aria-disabled');
    }
  }
}

/** Vendors whose BFF outcome (`?linked=` / `?link_error=`) an element of this page already announced. */
const claimedReturns = new Set<string>();

/** The query parameters the Worker adds to a page it sends back to (worker/routes/link.ts). */
const OUTCOME_PARAMS = new Set(['linked', 'link_error', 'vendor']);

/** Takes the link outcome out of the address, leaving the page's own parameters as they were written. */
function dropOutcomeParams(): void {
  const kept = location.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && !OUTCOME_PARAMS.has(paramName(pair)));
  const search = kept.length === 0 ? '' : `?${kept.join('&')}`;
  history.replaceState(history.state, '', `${location.pathname}${search}${location.hash}`);
}

function paramName(pair: string): string {
  const name = pair.split('=')[0]!.replaceAll('+', ' ');
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Runs `task` once the page has loaded (at once if it has). */
function afterLoad(task: () => void): void {
  if (document.readyState === 'complete') task();
  else window.addEventListener('load', task, { once: true });
}

if (!customElements.get('tokengate-link')) customElements.define('tokengate-link', TokengateLink);
