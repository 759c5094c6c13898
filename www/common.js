// @ts-check
// What the burning page and the kiosk page share: the helper to talk to,
// connection states in words, error text, the burn steps, elements by id and
// the progress an update event shows.

/** @typedef {import('./pkg/webburn_web.js').ConnectionState} ConnectionState */
/** @typedef {import('./pkg/webburn_web.js').WebburnError} WebburnError */
/** @typedef {import('./pkg/webburn_web.js').WriteEngine2UpdateEvent} WriteEngine2UpdateEvent */
/** @typedef {import('./pkg/webburn_web.js').DiscFormat2DataUpdateEvent} DiscFormat2DataUpdateEvent */

/**
 * @overload
 * @param {string} id
 * @returns {HTMLElement}
 */
/**
 * @template {HTMLElement} T
 * @overload
 * @param {string} id
 * @param {new () => T} kind
 * @returns {T}
 */
/**
 * The element with id `id`, checked to be a `kind` (any HTMLElement when not
 * given): a page that lost an element, or changed its kind, fails here by
 * name rather than on a property of null later.
 * @param {string} id
 * @param {new () => HTMLElement} [kind]
 * @returns {HTMLElement}
 */
export function $(id, kind = HTMLElement) {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`#${id} is no ${kind.name} of this page`);
  return el;
}

/**
 * The first element below `root` that `selector` matches, checked to be a `kind`.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new () => T} kind
 * @returns {T}
 */
export function find(root, selector, kind) {
  const el = root.querySelector(selector);
  if (!(el instanceof kind)) throw new Error(`${selector}: no ${kind.name} there`);
  return el;
}

export const MB = 1e6;

/**
 * The file chosen in the page's file input (#file), the first of several.
 * @returns {File | undefined}
 */
export function chosenFile() {
  return $('file', HTMLInputElement).files?.[0];
}

// The helper to talk to: ?helper=URL, else the origin that served this page.
const params = new URLSearchParams(location.search);
export const helperUrl = params.get('helper') || location.origin;
export const ownPage = helperUrl === location.origin;

/** @type {Record<ConnectionState, string>} */
export const STATE_TEXT = {
  idle: 'Not connected',
  connecting: 'Connecting to the helper…',
  helperNotRunning: 'Helper not running',
  localNetworkPrompt: 'Waiting for your answer to the browser',
  localNetworkDenied: 'Local network access denied',
  pairingPending: 'Waiting for approval on the helper',
  pairingRefused: 'This site was refused by the helper',
  helperOutdated: 'Helper too old for this page',
  notOpenedFromHelper: 'Open this page from the webburn helper',
  connected: 'Connected',
  disconnected: 'Connection lost – reconnecting…',
};

/**
 * What the user can do about a state, for the states where they can.
 * @type {Partial<Record<ConnectionState, string>>}
 */
export const STATE_HELP = {
  helperNotRunning:
    `Nothing answers at ${helperUrl}. Start the webburn helper (webburn-helper serve), then try again.`,
  localNetworkPrompt:
    'Your browser asks whether this page may reach programs on this computer (the webburn ' +
    'helper). Choose Allow.',
  localNetworkDenied:
    'Your browser does not let this page reach programs on this computer. Allow local network ' +
    'access for this site in the browser\'s site settings, then try again.',
  pairingPending:
    'The helper asks its user to approve this site. On the computer running the helper, run ' +
    '"webburn-helper pair list" to see the code, then "webburn-helper pair approve CODE" ' +
    '(or approve it on the helper\'s own page).',
  pairingRefused: 'The helper\'s user refused this site (or did not answer in time). Try again to ask anew.',
  helperOutdated: 'Update the webburn helper: it is older than this page needs.',
  notOpenedFromHelper:
    'This page manages the helper (which sites and disks may be used), so only the helper opens ' +
    'it: choose "Open the burning page" in the webburn icon\'s menu, or run "webburn-helper open".',
  disconnected: 'The connection to the helper was lost. Trying again…',
};

/**
 * Where the person gets the helper, if the site says: its
 * `<meta name="webburn-helper-download" content="URL">`.
 */
export const helperDownload =
  document.querySelector('meta[name="webburn-helper-download"]')?.getAttribute('content') || '';

/**
 * Shows the connection state in the header (#state) and, when the user can
 * do something about it, what in the #connection panel; `update` is the
 * library's text for a helper too old for the page (DiscMaster2.helperUpdate).
 * @param {ConnectionState} state
 * @param {string} [update]
 */
export function showState(state, update) {
  const el = $('state');
  // A user-timing mark per state (DevTools' performance panel; the first
  // `webburn:connected` is when the page became usable).
  if (el.dataset.state !== state) performance.mark(`webburn:${state}`);
  el.dataset.state = state;
  el.textContent = STATE_TEXT[state] || state;
  const help = state === 'helperOutdated' && update ? `${update}.` : STATE_HELP[state];
  $('connection').hidden = !help;
  $('connection-text').textContent = help || '';
  $('retry').hidden = ['pairingPending', 'localNetworkPrompt', 'disconnected'].includes(state);
  const link = $('helper-download', HTMLAnchorElement);
  link.hidden = !(state === 'helperOutdated' && helperDownload);
  if (helperDownload) link.href = helperDownload;
}

/**
 * Whether `e` is one of the library's errors: it carries an HRESULT.
 * @param {unknown} e
 * @returns {e is WebburnError}
 */
export function isLibraryError(e) {
  return typeof e === 'object' && e !== null && 'hresult' in e && typeof e.hresult === 'number';
}

/**
 * "NAME (0xHRESULT): message" for the library's errors, the message of others.
 * @param {unknown} e
 */
export function describeError(e) {
  if (isLibraryError(e)) {
    const hex = '0x' + (e.hresult >>> 0).toString(16).toUpperCase().padStart(8, '0');
    // The system still uses the disk: what the person does about it.
    const hint = e.code === 'diskInUse' ? ' Eject it in the file manager first, then burn again.' : '';
    return `${e.name} (${hex}): ${e.message}${hint}`;
  }
  const message = typeof e === 'object' && e !== null && 'message' in e ? e.message : undefined;
  return String(message || e);
}

// IMAPI_FORMAT2_DATA_WRITE_ACTION, for people.
export const ACTIONS = ['Checking the disc', 'Formatting', 'Preparing the drive', 'Calibrating',
  'Writing', 'Closing the disc', 'Done', 'Verifying'];
/** IMAPI_FORMAT2_DATA_WRITE_ACTION_COMPLETED: nothing is left to wait for. */
export const ACTION_DONE = 6;
/** IMAPI_FORMAT2_DATA_WRITE_ACTION_WRITING_DATA. */
export const ACTION_WRITING = 4;
/** IMAPI_FORMAT2_DATA_WRITE_ACTION_VERIFYING: the figures follow the read-back. */
export const ACTION_VERIFYING = 7;

/**
 * What an update event says about the burn's progress, worked out once for
 * both pages.
 * @typedef {object} Progress
 * @property {number | undefined} action  IMAPI_FORMAT2_DATA_WRITE_ACTION (DiscFormat2Data only)
 * @property {boolean} verifying  reading back: the other figures are the read-back's
 * @property {number} fraction  of the sectors done, 0..1
 * @property {number} rate  bytes per second now
 * @property {number | null} secondsLeft  until the burn is done; null while unknown
 */

/**
 * The progress `e` shows. `bytesPerSector` (the write's sector size), when
 * given, lets the average rate so far stand in for a rate the event does not
 * give yet, and an ETA be worked out for WriteEngine2, whose events have none.
 * @param {WriteEngine2UpdateEvent | DiscFormat2DataUpdateEvent} e
 * @param {number} [bytesPerSector]
 * @returns {Progress}
 */
export function progressOf(e, bytesPerSector = 0) {
  // Only DiscFormat2Data's events carry these.
  const disc = 'currentAction' in e ? e : undefined;
  const action = disc?.currentAction;
  const verifying = action === ACTION_VERIFYING;
  const written = e.lastWrittenLba - e.startLba + 1;
  const done = disc && verifying ? disc.lastVerifiedLba - e.startLba + 1 : written;
  const fraction = e.sectorCount > 0 ? Math.min(Math.max(done / e.sectorCount, 0), 1) : 0;
  const average = e.elapsedMs > 0 ? (written * bytesPerSector) / (e.elapsedMs / 1000) : 0;
  const rate = disc && verifying ? disc.verifyBytesPerSecond : e.currentBytesPerSecond || average;
  let secondsLeft = null;
  if (disc) {
    if (disc.remainingTime >= 0 && action !== ACTION_DONE) secondsLeft = disc.remainingTime;
  } else {
    const left = (e.sectorCount - done) * bytesPerSector;
    if (average > 0 && left > 0) secondsLeft = Math.ceil(left / average);
  }
  return { action, verifying, fraction, rate, secondsLeft };
}

/**
 * "42.0 %", " verified" added while reading back.
 * @param {Progress} p
 * @param {number} digits  after the point
 */
export function percentText(p, digits) {
  return `${(p.fraction * 100).toFixed(digits)} %${p.verifying ? ' verified' : ''}`;
}

/**
 * "11.1 MB/s".
 * @param {number} bytesPerSecond
 */
export function rateText(bytesPerSecond) {
  return `${(bytesPerSecond / MB).toFixed(1)} MB/s`;
}

/**
 * Lets a file be dropped on the label `dropId` for the file input `inputId`
 * (which then fires `change`), while `allowed()` says so.
 * @param {string} dropId
 * @param {string} inputId
 * @param {() => boolean} [allowed]
 */
export function acceptDrops(dropId, inputId, allowed = () => true) {
  const drop = $(dropId);
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const files = e.dataTransfer?.files;
    if (files && files.length && allowed()) {
      const input = $(inputId, HTMLInputElement);
      input.files = files;
      input.dispatchEvent(new Event('change'));
    }
  });
}
