// @ts-check
// The kiosk page and duplicator: choose a file once, burn it onto every
// drive of the station at the same time (one upload, DiscFormat2Data.duplicate),
// verify, eject (a compressed disk image, e.g. an SD card's .img.xz, is decoded
// on the way: DiscFormat2Data.duplicateImage), and for more copies count down while the operator changes
// discs. Errors of one drive show on its tile; the others go on. The counter
// and history come from the helper in kiosk mode (GET /v1/history). A photo
// kiosk (`files = true` in the kiosk file) takes the customer's files and
// folders and burns them as a disc every computer opens (FileSystemImage),
// the one image streamed to every drive.
import init, { DiscFormat2Data, DiscMaster2, DiskImage, FileSystemImage, profileName } from './pkg/webburn_web.js';
import {
  $, ACTIONS, MB, acceptDrops, chosenFile, describeError, find, helperUrl, percentText, progressOf, rateText, showState,
} from './common.js';

/** @typedef {import('./pkg/webburn_web.js').DiscRecorder2} DiscRecorder2 */
/** @typedef {import('./pkg/webburn_web.js').DiscFormat2DataResult} DiscFormat2DataResult */
/** @typedef {import('./pkg/webburn_web.js').DiscFormat2DataUpdateEvent} DiscFormat2DataUpdateEvent */
/** @typedef {import('./pkg/webburn_web.js').DuplicateOutcome} DuplicateOutcome */
/** @typedef {import('./pkg/webburn_web.js').WebburnError} WebburnError */

/**
 * The helper's kiosk settings (GET /v1/status, `kiosk`).
 * @typedef {object} KioskSettings
 * @property {string} title  of the station
 * @property {number} copies  per drive, to start with
 * @property {number} verification  BurnVerificationLevel
 * @property {boolean} eject  when a disc is done
 * @property {number} countdownSeconds  between copies, to change the discs
 * @property {boolean} files  a photo kiosk: the customer's files, as a disc image
 */

/**
 * One disc done or failed (GET /v1/history, `recent`).
 * @typedef {object} DiscRecord
 * @property {number} timeMs
 * @property {string} recorder  its id
 * @property {boolean} ok
 * @property {string} result  the HRESULT's name
 * @property {string | undefined} [sha256]
 * @property {boolean} [verified]
 */

/**
 * The counter and the recent discs, newest first (GET /v1/history).
 * @typedef {{ ok: number, failed: number, recent: DiscRecord[] }} History
 */

/**
 * The library's objects, made once it is loaded (main).
 * @typedef {object} Library
 * @property {DiscMaster2} master  the connection to the helper
 * @property {DiscFormat2Data} format  the duplicator
 */

/**
 * A drive's tile, and the parts of it update events and outcomes fill in.
 * @typedef {object} Tile
 * @property {HTMLLIElement} li  data-index, data-state, data-hresult, data-action
 * @property {HTMLButtonElement} stop  stops this drive only
 * @property {HTMLElement} step
 * @property {HTMLProgressElement} bar
 * @property {HTMLElement} rate  percent, rate and time left
 * @property {HTMLElement} outcome  for the operator
 * @property {HTMLElement} technical  the error, or the SHA-256
 */

const state = {
  /**
   * What the helper's kiosk settings say, or these defaults when the helper
   * is not in kiosk mode.
   * @type {KioskSettings}
   */
  settings: {
    title: 'Disc station', copies: 1, verification: 2, eject: true, countdownSeconds: 15, files: false,
  },
  /** The helper is in kiosk mode: it keeps the counter and the history. */
  kioskMode: false,
  /** A photo kiosk's chosen files, each at its path on the disc. @type {{ path: string, file: File }[]} */
  photos: [],
  /** @type {Library | undefined} */
  library: undefined,
  /** The drives this station burns (none another page is using). @type {DiscRecorder2[]} */
  drives: [],
  /** Their tiles, by index. @type {Tile[]} */
  tiles: [],
  /** Copies are being burned. */
  running: false,
  /** Stop was pressed: no further copy starts. */
  stopping: false,
  /** Outside kiosk mode the page counts for itself. @type {History} */
  local: { ok: 0, failed: 0, recent: [] },
  /** Resolves the countdown early ("Start now", "Stop"). @type {(() => void) | null} */
  skipCountdown: null,
};

/** The library's objects: everything that uses them runs after main made them. */
function library() {
  if (!state.library) throw new Error('the burning library is not loaded yet');
  return state.library;
}

/**
 * @param {string} phase  data-phase: ready, countdown, burning, stopping, stopped, partial, done or error
 * @param {string} text
 */
function setPhase(phase, text) {
  $('phase').dataset.phase = phase;
  $('phase').textContent = text;
}

function copies() {
  const n = Math.floor(Number($('copies', HTMLInputElement).value));
  return n >= 1 && n <= 99 ? n : 1;
}

/**
 * What each disc gets: the chosen file, or (a photo kiosk) the image of the
 * chosen files, laid out here; `null` while nothing is chosen.
 * @returns {Blob | null}
 */
function source() {
  const { settings, photos } = state;
  if (!settings.files) return chosenFile() || null;
  if (!photos.length) return null;
  const fsi = new FileSystemImage();
  fsi.volumeName = settings.title.slice(0, 32);
  for (const p of photos) fsi.root.addFile(p.path, p.file);
  return fsi.createResultImage().imageStream;
}

function chosenBytes() {
  return state.settings.files ? state.photos.reduce((n, p) => n + p.file.size, 0) : chosenFile()?.size ?? 0;
}

function updateButtons() {
  const { drives, running } = state;
  const connected = state.library?.master.state === 'connected';
  const file = state.settings.files ? state.photos.length > 0 : chosenFile() !== undefined;
  $('start', HTMLButtonElement).disabled = !connected || running || !file || drives.length === 0;
  $('folder', HTMLInputElement).disabled = running;
  $('stop', HTMLButtonElement).disabled = !running;
  $('file', HTMLInputElement).disabled = running;
  $('copies', HTMLInputElement).disabled = running;
  const n = copies();
  $('plan').textContent = drives.length === 0 ? 'No drive is free.'
    : `${drives.length} drive${drives.length > 1 ? 's' : ''} × ${n} cop${n > 1 ? 'ies' : 'y'} = ${drives.length * n} discs` +
      (file ? ` of ${(chosenBytes() / MB).toFixed(1)} MB` : '');
}

/**
 * @param {DiscRecorder2} r
 * @param {number} i
 * @returns {[string, string]}  the tile's title, and the drive and its medium
 */
function driveName(r, i) {
  const medium = r.currentProfiles.map(profileName).join(', ') || 'no disc';
  return [`Drive ${i + 1}`, `${r.productId} · ${medium}`];
}

/**
 * A tile for drive `i`, cloned from the page's template.
 * @param {DiscRecorder2} r
 * @param {number} i
 * @returns {Tile}
 */
function newTile(r, i) {
  const copy = document.importNode($('drive-tile', HTMLTemplateElement).content, true);
  const li = find(copy, 'li.drive', HTMLLIElement);
  li.dataset.index = String(i);
  const [name, detail] = driveName(r, i);
  find(li, '.drive-name', HTMLElement).textContent = name;
  find(li, '.drive-medium', HTMLElement).textContent = detail;
  const stop = find(li, '.stop-drive', HTMLButtonElement);
  stop.onclick = () => library().format.cancelWrite(i);
  return {
    li,
    stop,
    step: find(li, '.step', HTMLElement),
    bar: find(li, 'progress', HTMLProgressElement),
    rate: find(li, '.rate', HTMLElement),
    outcome: find(li, '.outcome', HTMLElement),
    technical: find(li, '.technical', HTMLElement),
  };
}

// One tile per drive; update events and outcomes fill it in. The tiles stay
// (with the last outcomes) while the drives are the same.
function showDrives() {
  const list = $('drives');
  const ids = state.drives.map((r) => r.activeDiscRecorder).join('\n');
  if (list.dataset.ids === ids) return;
  list.dataset.ids = ids;
  state.tiles = state.drives.map(newTile);
  list.replaceChildren(...state.tiles.map((t) => t.li));
}

/**
 * @param {number} i  recorderIndex
 * @returns {Tile | undefined}
 */
function tile(i) {
  return state.tiles[i];
}

/** @param {DiscFormat2DataUpdateEvent} e */
function onUpdate(e) {
  const t = tile(e.recorderIndex);
  if (!t) return;
  const p = progressOf(e);
  t.step.textContent = ACTIONS[e.currentAction] || '';
  t.li.dataset.action = String(e.currentAction);
  t.bar.value = p.fraction;
  t.rate.textContent = `${percentText(p, 0)} · ${rateText(p.rate)}` +
    (p.secondsLeft === null ? '' : ` · ${p.secondsLeft} s left`);
}

/**
 * What an operator should do about a drive's failure, by the HRESULT's name.
 * @type {Record<string, string>}
 */
const OPERATOR_TEXT = {
  E_IMAPI_RECORDER_MEDIA_NO_MEDIA: 'No disc in the drive',
  E_IMAPI_DF2DATA_MEDIA_NOT_BLANK: 'The disc is not blank – put in a blank one',
  E_IMAPI_DF2DATA_MEDIA_IS_NOT_SUPPORTED: 'This kind of disc cannot be written here',
  E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA: 'The file does not fit on this disc',
  E_IMAPI_BURN_VERIFICATION_FAILED: 'The disc did not read back correctly – use another one',
  E_IMAPI_REQUEST_CANCELLED: 'Stopped',
  E_IMAPI_RECORDER_LOCKED: 'The drive is busy with another page',
  E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE: 'The drive failed to write – the disc is spoiled',
};

/**
 * What an operator should do about a drive's failure: by its code, then its
 * name, never by the words of its message.
 * @param {WebburnError} e
 */
function operatorText(e) {
  if (e.code === 'notNextWritableAddress') return 'The disc already holds data – put in a blank one';
  return OPERATOR_TEXT[e.name] || 'The burn failed';
}

/**
 * A drive's outcome as what it is: the report of a disc done, or the error
 * of one that failed (the library gives the one `ok` says).
 * @param {DuplicateOutcome} o
 * @returns {{ ok: true, report: DiscFormat2DataResult } | { ok: false, error: WebburnError }}
 */
function settled(o) {
  if (o.ok && o.report) return { ok: true, report: o.report };
  if (!o.ok && o.error) return { ok: false, error: o.error };
  throw new Error(`drive ${o.recorderIndex}: an outcome without its ${o.ok ? 'report' : 'error'}`);
}

/** @param {DuplicateOutcome} o */
function showOutcome(o) {
  const t = tile(o.recorderIndex);
  if (!t) return;
  const s = settled(o);
  t.stop.hidden = true;
  t.li.dataset.state = s.ok ? 'ok' : 'failed';
  t.li.dataset.hresult = s.ok ? 'S_OK' : s.error.name;
  t.outcome.textContent = s.ok
    ? `✓ ${s.report.verified ? 'Verified' : 'Written'}${s.report.ejected ? ', ejected' : ''}`
    : `✗ ${operatorText(s.error)}`;
  t.technical.textContent = s.ok ? `SHA-256 ${s.report.sha256}` : describeError(s.error);
  if (s.ok) t.bar.value = 1;
  if (!state.kioskMode) {
    const { local } = state;
    local[s.ok ? 'ok' : 'failed'] += 1;
    local.recent.unshift({ timeMs: Date.now(), recorder: o.recorderId, ok: s.ok,
      result: s.ok ? 'S_OK' : s.error.name, sha256: s.ok ? s.report.sha256 : undefined });
  }
}

async function refreshHistory() {
  let view = state.local;
  if (state.kioskMode) {
    try {
      const r = await fetch(`${helperUrl}/v1/history`);
      if (r.ok) view = await r.json();
    } catch (e) {
      // The helper is away; the counter shows what it showed.
      return;
    }
  }
  const counter = $('counter');
  counter.dataset.ok = String(view.ok);
  counter.dataset.failed = String(view.failed);
  counter.textContent = `${view.ok} burned · ${view.failed} failed`;
  $('history').replaceChildren(...view.recent.slice(0, 50).map((d) => {
    const li = document.createElement('li');
    if (!d.ok) li.className = 'failed';
    const i = state.drives.findIndex((r) => r.activeDiscRecorder === d.recorder);
    const who = i >= 0 ? `Drive ${i + 1}` : d.recorder;
    li.textContent = `${new Date(d.timeMs).toLocaleTimeString()} · ${who} · ` +
      (d.ok ? `ok${d.verified ? ', verified' : ''}${d.sha256 ? ` · ${d.sha256.slice(0, 12)}…` : ''}` : d.result);
    return li;
  }));
}

async function refreshDrives() {
  const all = await library().master.recorders();
  // A drive another page is using is not this station's to burn.
  state.drives = all.filter((r) => !r.inUse);
  showDrives();
  updateButtons();
}

/**
 * Waits `seconds` (or until "Start now" / "Stop"), showing what to do.
 * @param {number} seconds
 * @param {number} next  the copy that starts then
 * @param {number} total  copies
 * @returns {Promise<void>}
 */
function countdown(seconds, next, total) {
  return new Promise((resolve) => {
    let left = seconds;
    const show = () => {
      setPhase('countdown', `Put blank discs in the drives`);
      $('countdown-text').textContent = `Copy ${next} of ${total} starts in ${left} s`;
    };
    $('countdown-row').hidden = false;
    show();
    const timer = setInterval(() => {
      left -= 1;
      if (left <= 0) finish(); else show();
    }, 1000);
    function finish() {
      clearInterval(timer);
      $('countdown-row').hidden = true;
      state.skipCountdown = null;
      resolve();
    }
    state.skipCountdown = finish;
    if (left <= 0) finish();
  });
}

/**
 * One copy on every drive at once.
 * @param {Blob | DiskImage} file  a compressed disk image is decoded on the way
 * @param {number} copy
 * @param {number} total
 * @returns {Promise<number>}  how many drives succeeded
 */
async function burnCopy(file, copy, total) {
  const { format } = library();
  await refreshDrives();
  const { drives } = state;
  const [first, ...others] = drives;
  if (!first) throw new Error('no drive is free');
  format.recorder = first;
  format.clearDuplicateRecorders();
  for (const d of others) format.addDuplicateRecorder(d);
  format.burnVerificationLevel = state.settings.verification;
  format.ejectWhenDone = state.settings.eject;
  for (const t of state.tiles) {
    t.li.dataset.state = 'burning';
    delete t.li.dataset.hresult;
    t.stop.hidden = false;
    t.step.textContent = 'Starting';
    t.bar.value = 0;
    t.rate.textContent = '';
    t.outcome.textContent = '';
    t.technical.textContent = '';
  }
  setPhase('burning', `Copy ${copy} of ${total}: burning ${drives.length} disc${drives.length > 1 ? 's' : ''}`);
  const outcomes = file instanceof DiskImage ? await format.duplicateImage(file) : await format.duplicate(file);
  outcomes.forEach(showOutcome);
  await refreshHistory();
  return outcomes.filter((o) => o.ok).length;
}

async function run() {
  if (state.running) return;
  /** @type {Blob | DiskImage | null} */
  let file;
  try {
    file = source();
  } catch (e) {
    setPhase('error', `${describeError(e)}. Choose fewer files.`);
    return;
  }
  if (!file) return;
  if (!state.settings.files) {
    // A compressed disk image (an SD-card duplicator's .img.xz) is decoded
    // while it is written to every drive.
    try {
      const image = await DiskImage.open(file);
      if (image.format !== 'raw') file = image;
    } catch (e) {
      setPhase('error', `${describeError(e)}. Choose another file.`);
      return;
    }
  }
  state.running = true;
  state.stopping = false;
  updateButtons();
  const total = copies();
  let ok = 0;
  let tried = 0;
  try {
    for (let copy = 1; copy <= total && !state.stopping; copy += 1) {
      if (copy > 1) {
        await countdown(state.settings.countdownSeconds, copy, total);
        if (state.stopping) break;
      }
      ok += await burnCopy(file, copy, total);
      tried += state.drives.length;
    }
    if (state.stopping) {
      setPhase('stopped', `Stopped: ${ok} of ${tried} discs done. Ready for the next disc.`);
    } else if (ok < tried) {
      setPhase('partial', `${ok} of ${tried} discs burned – the drives say what failed. Ready for the next disc.`);
    } else {
      setPhase('done', `Done: ${ok} disc${ok > 1 ? 's' : ''} burned and checked. Ready for the next disc.`);
    }
  } catch (e) {
    // The burn as a whole failed (the helper went away, a drive vanished):
    // say so, and be ready again once the helper answers.
    setPhase('error', `${describeError(e)}. Check the drives, then press Burn to try again.`);
  } finally {
    state.running = false;
    $('countdown-row').hidden = true;
    updateButtons();
    refreshDrives().catch(() => {});
    refreshHistory();
  }
}

async function loadSettings() {
  try {
    const status = await (await fetch(`${helperUrl}/v1/status`)).json();
    if (status.kiosk) {
      state.settings = status.kiosk;
      state.kioskMode = true;
    }
  } catch (e) {
    // No helper yet: the defaults, and the connection state says why.
  }
  const { settings } = state;
  $('title').textContent = settings.title;
  document.title = `${settings.title} – webburn`;
  $('copies', HTMLInputElement).value = String(settings.copies);
  if (settings.files) {
    $('setup-title').textContent = '1 · Choose the photos';
    $('file', HTMLInputElement).multiple = true;
    $('file-label').textContent = 'Choose photos, or drop them here';
    $('folder-row').hidden = false;
  }
}

// A photo kiosk: the chosen files (and folders) as the disc's contents.
function showPhotos() {
  const n = state.photos.length;
  $('file-label').textContent = n ? `${n} photo${n > 1 ? 's' : ''} – ${(chosenBytes() / MB).toFixed(1)} MB`
    : 'Choose photos, or drop them here';
  setPhase('ready', 'Ready for the next disc');
  updateButtons();
}

async function main() {
  await init();
  await loadSettings();
  state.library = { master: new DiscMaster2(helperUrl, true), format: new DiscFormat2Data() };
  const { master, format } = state.library;
  const { photos } = state;
  format.addEventListener('update', onUpdate);
  // For the browser's console.
  Object.assign(window, { webburn: { master, format, settings: state.settings, kioskMode: state.kioskMode } });
  master.addEventListener('statechange', (e) => {
    showState(e.detail, master.helperUpdate);
    updateButtons();
    if (e.detail === 'connected' && !state.running) {
      if ($('phase').dataset.phase === 'error') setPhase('ready', 'Ready for the next disc');
      refreshDrives().catch((err) => setPhase('error', describeError(err)));
    }
  });
  $('start').addEventListener('click', run);
  $('stop').addEventListener('click', async () => {
    state.stopping = true;
    if (state.skipCountdown) state.skipCountdown();
    setPhase('stopping', 'Stopping…');
    await format.cancelWrite();
  });
  $('now').addEventListener('click', () => { if (state.skipCountdown) state.skipCountdown(); });
  $('retry').addEventListener('click', () => master.connect().catch(() => {}));
  $('copies').addEventListener('input', updateButtons);
  const folder = $('folder', HTMLInputElement);
  folder.addEventListener('change', () => {
    for (const f of folder.files ?? []) photos.push({ path: f.webkitRelativePath || f.name, file: f });
    folder.value = '';
    showPhotos();
  });
  const input = $('file', HTMLInputElement);
  input.addEventListener('change', () => {
    if (state.settings.files) {
      for (const f of input.files ?? []) {
        if (!photos.some((p) => p.path === f.name)) photos.push({ path: f.name, file: f });
      }
      showPhotos();
      return;
    }
    const f = chosenFile();
    $('file-label').textContent = f ? `${f.name} – ${(f.size / MB).toFixed(1)} MB` : 'Choose a file, or drop it here';
    setPhase('ready', 'Ready for the next disc');
    updateButtons();
  });
  acceptDrops('drop', 'file', () => !state.running);
  showState(master.state, master.helperUpdate);
  updateButtons();
  await refreshHistory();
  try {
    await master.connect();
  } catch (e) {
    setPhase('error', describeError(e));
  }
}

main().catch((e) => setPhase('error', describeError(e)));
