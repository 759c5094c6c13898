// @ts-check
// A hosted site's "Burn to disc": the person's chosen files become a disc
// every computer reads (FileSystemImage), burned and verified through the
// webburn helper on their own computer (DiscMaster2, DiscFormat2Data).
//
// Built with `npm run build` (esbuild) against the webburn-web package.

import init, { DiscFormat2Data, DiscMaster2, FileSystemImage } from 'webburn-web';

/** @typedef {import('webburn-web').ConnectionState} ConnectionState */

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

// The helper's default address; `?helper=URL` points elsewhere (tests).
const helper = new URLSearchParams(location.search).get('helper') || 'http://127.0.0.1:47801';
const download = document.querySelector('meta[name="webburn-helper-download"]')?.getAttribute('content') || '';

/** @type {Record<ConnectionState, string>} */
const STATE_TEXT = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  helperNotRunning: 'The burner program is not running',
  localNetworkPrompt: 'Your browser is asking you something',
  localNetworkDenied: 'Your browser blocked this site from the burner',
  pairingPending: 'Waiting for you to approve this site in the burner program',
  pairingRefused: 'This site was not approved',
  helperOutdated: 'The burner program needs an update',
  notOpenedFromHelper: 'Open the burner program\'s own page from the program',
  connected: 'Ready',
  disconnected: 'Connection lost, trying again…',
};

/**
 * What the person can do, per state.
 * @param {ConnectionState} state
 */
function advice(state) {
  switch (state) {
    case 'helperNotRunning':
      // Some browsers may fail the same way when their prompt is dismissed.
      return 'Nothing answered on this computer. Start the webburn helper (or install it); if your ' +
        'browser asked whether this site may reach devices or apps on this computer, choose Allow. ' +
        'Then press Connect again.';
    case 'localNetworkPrompt':
      return 'Your browser asks whether this site may reach devices or apps on this computer: ' +
        'that is the burner program. Choose Allow.';
    case 'localNetworkDenied':
      return 'This site needs your permission to talk to the burner program on this computer. ' +
        'Click the icon left of the address bar, open the site settings, allow ' +
        '"Local network access" (or "Apps on this device"), then press Connect again. ' +
        'On a managed computer your administrator can allow this site for everyone ' +
        '(Chrome and Edge policy LoopbackNetworkAllowedForUrls).';
    case 'pairingPending':
      return `The burner program asks you once whether ${location.origin} may use it: ` +
        'click its icon near the clock (or open its page) and approve this site.';
    case 'pairingRefused':
      return 'The burner program refused this site, or nobody answered in time. Press Connect to ask again.';
    case 'helperOutdated':
      return `${master.helperUpdate ?? 'Update the webburn helper'}.`;
    default:
      return '';
  }
}

/** @param {ConnectionState} state */
function show(state) {
  const el = $('state');
  el.dataset.state = state;
  el.textContent = STATE_TEXT[state] ?? state;
  const text = advice(state);
  $('advice').hidden = !text;
  $('advice').textContent = text;
  const link = /** @type {HTMLAnchorElement} */ ($('download'));
  link.hidden = !download || !['helperNotRunning', 'helperOutdated'].includes(state);
  link.href = download;
  $('connect').hidden = ['connected', 'pairingPending', 'localNetworkPrompt'].includes(state);
}

/**
 * The burn's outcome: `hresult` is its HRESULT name, none while it runs.
 * @param {string} text
 * @param {string} [hresult]
 */
function result(text, hresult) {
  $('result').textContent = text;
  if (hresult) $('result').dataset.hresult = hresult;
  else delete $('result').dataset.hresult;
}

await init();
const master = new DiscMaster2(helper, true);
const format = new DiscFormat2Data();
master.addEventListener('statechange', (e) => show(e.detail));

async function connect() {
  try {
    await master.connect();
    await listRecorders();
  } catch (e) {
    // The state (and its advice) says what happened; the detail is for support.
    console.warn('webburn:', e);
  }
}

async function listRecorders() {
  const select = /** @type {HTMLSelectElement} */ ($('recorder'));
  select.replaceChildren();
  for (const r of await master.recorders()) {
    const free = r.freeSectors !== undefined ? ` – ${(r.freeSectors * r.sectorSize / 1e9).toFixed(1)} GB free` : '';
    select.add(new Option(`${r.vendorId} ${r.productId}${free}`, r.activeDiscRecorder));
  }
  select.disabled = select.options.length === 0;
  /** @type {HTMLButtonElement} */ ($('burn')).disabled = select.disabled;
}

async function burn() {
  const files = /** @type {HTMLInputElement} */ ($('files')).files;
  if (!files || files.length === 0) return result('Choose the files first.', 'E_INVALIDARG');
  const recorder = master.recorder(/** @type {HTMLSelectElement} */ ($('recorder')).value);
  const burnButton = /** @type {HTMLButtonElement} */ ($('burn'));
  burnButton.disabled = true;
  $('cancel').hidden = false;
  result('Burning…');
  try {
    // The disc's file system, laid out here: too much for the disc is refused before writing.
    const image = new FileSystemImage();
    image.volumeName = /** @type {HTMLInputElement} */ ($('label')).value.trim() || 'FILES';
    image.chooseImageDefaults(recorder);
    for (const f of files) image.root.addFile(f.name, f);
    const built = image.createResultImage();
    format.recorder = recorder;
    format.burnVerificationLevel = 2;
    const report = await format.write(built.imageStream);
    result(`Done: ${files.length} files burned${report.verified ? ' and verified' : ''}. SHA-256 ${report.sha256}`, 'S_OK');
  } catch (e) {
    const err = /** @type {{ name?: string, message?: string }} */ (e);
    result(`The burn failed: ${err.message ?? e}`, err.name ?? 'E_FAIL');
  } finally {
    burnButton.disabled = false;
    $('cancel').hidden = true;
  }
}

format.addEventListener('update', (e) => {
  const verifying = e.currentAction === 7;
  const done = (verifying ? e.lastVerifiedLba : e.lastWrittenLba) - e.startLba + 1;
  /** @type {HTMLProgressElement} */ ($('progress')).value = e.sectorCount > 0 ? Math.max(0, done / e.sectorCount) : 0;
});
$('connect').addEventListener('click', connect);
$('burn').addEventListener('click', burn);
$('cancel').addEventListener('click', () => format.cancelWrite());
show(master.state);
connect();
