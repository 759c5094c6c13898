// @ts-check
// The burning page: picks files and folders (burned as a file system every
// computer reads, built with FileSystemImage), a disc image or raw sectors,
// and a recorder; burns with DiscFormat2Data (check, write, close, verify) or
// WriteEngine2; shows progress, the current step, a rate/buffer graph, a log
// and the result.
import init, {
  DiscFormat2Data, DiscFormat2Erase, DiscMaster2, DiskImage, FileSystemImage, WriteEngine2, consentText,
  profileErasable, profileName, profileRewritable, profileTakesSessions,
} from './pkg/webburn_web.js';
import {
  $, ACTIONS, ACTION_WRITING, MB, acceptDrops, chosenFile, describeError, find, helperUrl, isLibraryError, ownPage,
  percentText, progressOf, rateText, showState,
} from './common.js';

/** @typedef {import('./pkg/webburn_web.js').DiscRecorder2} DiscRecorder2 */
/** @typedef {import('./pkg/webburn_web.js').WriteEngine2UpdateEvent} WriteEngine2UpdateEvent */
/** @typedef {import('./pkg/webburn_web.js').DiscFormat2DataUpdateEvent} DiscFormat2DataUpdateEvent */
/** @typedef {import('./pkg/webburn_web.js').DiscFormat2EraseUpdateEvent} DiscFormat2EraseUpdateEvent */


/**
 * The MMC profile of the medium in a recorder; 0 when it holds none.
 * @param {DiscRecorder2} r
 */
function profileOf(r) {
  return r.currentProfiles[0] ?? 0;
}

/**
 * The library's objects, made once it is loaded (main).
 * @typedef {object} Library
 * @property {DiscMaster2} master  the connection to the helper
 * @property {WriteEngine2} engine  raw sectors
 * @property {DiscFormat2Data} format  disc images and files
 * @property {DiscFormat2Erase} eraser  blanks a CD-RW or DVD-RW
 */

/**
 * A file of files mode, at its path on the disc.
 * @typedef {{ path: string, file: File }} Chosen
 */

/**
 * One point of the graph.
 * @typedef {object} Sample
 * @property {number} t  ms since the write started
 * @property {number} rate  MB/s
 * @property {number} fill  of the helper's buffer, 0..1
 * @property {number | null} drive  of the drive's buffer, 0..1; null when it does not say
 */

const state = {
  /** @type {Library | undefined} */
  library: undefined,
  /** The helper's recorders, as last listed. @type {DiscRecorder2[]} */
  recorders: [],
  /** A burn runs: the form is locked. */
  burning: false,
  /** The graph of the running burn (the same array all along: the tests read it). @type {Sample[]} */
  samples: [],
  /** Files mode: what the person chose (the same array all along: the tests read it). @type {Chosen[]} */
  chosen: [],
  /** The codes of the drive requests this page made, by recorder id. @type {Map<string, string>} */
  asked: new Map(),
  /** A drive request is being watched. */
  waitingApproval: false,
  /** The running write is an image whose size only its end tells (gzip, bzip2): its section is the whole medium. */
  openEnded: false,
  /** The recorder whose disc was found holding files, and how many. @type {{ id: string, files: number } | null} */
  onDisc: null,
};

/** The library's objects: everything that uses them runs after main made them. */
function library() {
  if (!state.library) throw new Error('the burning library is not loaded yet');
  return state.library;
}

/**
 * @param {string} text
 * @param {boolean} [isError]
 */
function log(text, isError = false) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  if (isError) li.className = 'error';
  $('log').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

/**
 * The input, select or button `id`: what the page disables while it burns.
 * @param {string} id
 */
function control(id) {
  const el = $(id);
  if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLButtonElement) return el;
  throw new Error(`#${id} cannot be disabled`);
}

/** The radio buttons choosing the mode. */
function modeRadios() {
  return [...document.querySelectorAll('input[name="mode"]')].filter((r) => r instanceof HTMLInputElement);
}

function updateButtons() {
  const { burning, chosen } = state;
  const connected = state.library?.master.state === 'connected';
  const data = mode() === 'files' ? chosen.length > 0 : chosenFile() !== undefined;
  const r = currentRecorder();
  // A removable disk the helper found: only once the person allowed it.
  const allowed = !r || r.approval === undefined || r.approval === 'approved';
  $('burn', HTMLButtonElement).disabled = !connected || burning || !data || !$('recorder', HTMLSelectElement).value || !allowed;
  $('cancel', HTMLButtonElement).disabled = !burning;
  for (const id of ['file', 'recorder', 'bps', 'lba', 'streaming', 'refresh', 'speed', 'verify', 'eject', 'power-off',
    'add-files', 'add-folder', 'volume', 'clear-files', 'as-file', 'erase', 'erase-yes', 'full-erase', 'leave-open',
    'add-to-disc']) {
    control(id).disabled = burning;
  }
  const simulate = $('simulate', HTMLInputElement);
  simulate.disabled = burning || !(r && r.canSimulate);
  if (simulate.disabled && !burning) simulate.checked = false;
  for (const radio of modeRadios()) radio.disabled = burning;
}

// files, disc (an image burned as it is) or section (raw WriteSection).
function mode() {
  return find(document, 'input[name="mode"]:checked', HTMLInputElement).value;
}

// Files and disc images both go through DiscFormat2Data.
function discMode() {
  return mode() !== 'section';
}

function showMode() {
  $('disc-options').hidden = !discMode();
  $('section-options').hidden = discMode();
  $('files-options').hidden = mode() !== 'files';
  $('drop').hidden = mode() === 'files';
  checkImage();
  showChosen();
  updateButtons();
}

/** @param {string} value */
function setMode(value) {
  find(document, `input[name="mode"][value="${value}"]`, HTMLInputElement).checked = true;
  showMode();
}

/**
 * Files mode: adds a File at `path` on the disc (a later one of the same path replaces it).
 * @param {File} file
 * @param {string} path
 */
function choose(file, path) {
  const { chosen } = state;
  const at = chosen.findIndex((c) => c.path === path);
  if (at >= 0) chosen.splice(at, 1);
  chosen.push({ path, file });
}

/**
 * The top-level item a path on the disc belongs to: its first folder, or the file itself.
 * @param {string} path
 */
function topName(path) {
  const slash = path.indexOf('/');
  return slash < 0 ? path : path.slice(0, slash);
}

// The chosen files as the top-level items the person sees, with the total
// against the disc's free space (the image's own size, laid out).
function showChosen() {
  if (mode() !== 'files') return;
  const { chosen } = state;
  /** @type {Map<string, { files: number, bytes: number, folder: boolean }>} */
  const top = new Map();
  for (const c of chosen) {
    const name = topName(c.path);
    const t = top.get(name) || { files: 0, bytes: 0, folder: c.path.includes('/') };
    t.files += 1;
    t.bytes += c.file.size;
    top.set(name, t);
  }
  $('chosen').replaceChildren(...[...top].map(([name, t]) => {
    const li = document.createElement('li');
    li.textContent = t.folder ? `${name}/ – ${t.files} files, ${(t.bytes / MB).toFixed(1)} MB`
      : `${name} – ${(t.bytes / MB).toFixed(1)} MB`;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.onclick = () => {
      // In place: window.webburn (and the tests) hold this array.
      const keep = chosen.filter((c) => topName(c.path) !== name);
      chosen.length = 0;
      for (const c of keep) chosen.push(c);
      showChosen();
      updateButtons();
    };
    li.append(remove);
    return li;
  }));
  const total = $('chosen-total');
  total.className = 'figures';
  if (!chosen.length) {
    total.textContent = 'Nothing chosen yet.';
    return;
  }
  const r = currentRecorder();
  const free = r && r.freeSectors != null ? r.freeSectors * r.sectorSize : null;
  let text = `${chosen.length} files, ${(chosen.reduce((n, c) => n + c.file.size, 0) / MB).toFixed(1)} MB`;
  try {
    const result = buildImage(null);
    const bytes = result.totalBlocks * result.blockSize;
    text += `; on the disc ${(bytes / MB).toFixed(1)} MB`;
    if (free != null) {
      text += ` of ${(free / MB).toFixed(0)} MB free`;
      if (bytes > free) {
        text += ': too much for this disc';
        total.className = 'figures over-limit';
      }
    }
  } catch (e) {
    text += ` – ${describeError(e)}`;
    total.className = 'figures over-limit';
  }
  total.textContent = text;
}

/**
 * The chosen files as a FileSystemImage (IMAPI2FS); with a recorder,
 * bounded by its free space (ChooseImageDefaults).
 * @param {DiscRecorder2 | null} recorder
 */
function imageOf(recorder) {
  const fsi = new FileSystemImage();
  if (recorder) fsi.chooseImageDefaults(recorder);
  for (const c of state.chosen) fsi.root.addFile(c.path, c.file);
  return fsi;
}

/**
 * The disc name typed, if any (else the image's own: the date, or the name
 * of the session the files are added to).
 * @param {FileSystemImage} fsi
 */
function nameImage(fsi) {
  const label = $('volume', HTMLInputElement).value.trim();
  if (label) fsi.volumeName = label;
}

/**
 * The laid-out image of the chosen files.
 * @param {DiscRecorder2 | null} recorder
 */
function buildImage(recorder) {
  const fsi = imageOf(recorder);
  nameImage(fsi);
  return fsi.createResultImage();
}

/**
 * A disc written in sessions that holds an earlier burn and takes more:
 * the files chosen are added to those on it.
 * @param {DiscRecorder2 | undefined} r
 */
function addsToDisc(r) {
  return Boolean(r && profileTakesSessions(profileOf(r)) && r.nextWritableAddress);
}

/**
 * The chosen files go next to those on the disc: always on a write-once
 * disc that holds a session, on a rewritable one that holds files unless
 * the person chose to burn it afresh.
 * @param {DiscRecorder2} r
 */
function addingToDisc(r) {
  if (addsToDisc(r)) return true;
  return profileRewritable(profileOf(r)) && state.onDisc?.id === r.activeDiscRecorder
    && $('add-to-disc', HTMLInputElement).checked;
}

/**
 * What is on a disc files can be added to, read from its last session; the
 * option to leave a write-once disc open, and on a rewritable disc that
 * holds files, to add to them or burn it afresh.
 * @param {DiscRecorder2} r
 */
async function showOnDisc(r) {
  const profile = profileOf(r);
  $('leave-open-row').hidden = !profileTakesSessions(profile);
  const note = $('on-disc');
  const addRow = $('add-to-disc-row');
  addRow.hidden = true;
  state.onDisc = null;
  if (!addsToDisc(r) && !profileRewritable(profile)) {
    note.hidden = true;
    return;
  }
  const rewritable = profileRewritable(profile);
  note.hidden = rewritable;
  note.textContent = 'This disc holds an earlier burn: the files you choose are added to it.';
  // Which files a disc holds is the person's to reveal: a site's page asks
  // on the helper only when it adds to the disc, not for choosing a drive.
  if (!ownPage) return;
  try {
    const fsi = new FileSystemImage();
    const found = await fsi.importFileSystem(library().master.recorder(r.activeDiscRecorder));
    if (currentRecorder()?.activeDiscRecorder !== r.activeDiscRecorder || found === 0) return;
    state.onDisc = { id: r.activeDiscRecorder, files: fsi.fileCount };
    const them = rewritable ? 'you may add the files you choose to them' : 'the files you choose are added to them';
    const top = fsi.root.names;
    const shown = top.slice(0, 8).join(', ') + (top.length > 8 ? `, and ${top.length - 8} more` : '');
    note.textContent = `This disc (“${fsi.volumeName}”) holds ${fsi.fileCount} files in ${fsi.directoryCount} folders`
      + ` from an earlier burn – ${shown}: ${them}.`;
    note.dataset.files = String(fsi.fileCount);
    note.hidden = false;
    addRow.hidden = !rewritable;
  } catch (e) {
    note.textContent = `This disc holds an earlier burn that cannot be added to: ${describeError(e)}`;
  }
}

/**
 * @param {FileSystemEntry} entry
 * @returns {entry is FileSystemFileEntry}
 */
function isFileEntry(entry) {
  return entry.isFile;
}

/**
 * @param {FileSystemEntry} entry
 * @returns {entry is FileSystemDirectoryEntry}
 */
function isDirectoryEntry(entry) {
  return entry.isDirectory;
}

/**
 * Files of a dropped folder, all levels (the File and Directory Entries API).
 * @param {FileSystemEntry} entry
 * @param {string} path  of the folder holding `entry`, with its trailing "/"
 * @param {Chosen[]} out
 * @returns {Promise<void>}
 */
function readEntry(entry, path, out) {
  return new Promise((resolve) => {
    if (isFileEntry(entry)) {
      entry.file((f) => { out.push({ path: `${path}${f.name}`, file: f }); resolve(); }, () => resolve());
      return;
    }
    if (!isDirectoryEntry(entry)) { resolve(); return; }
    const reader = entry.createReader();
    const batch = () => reader.readEntries(async (entries) => {
      if (!entries.length) { resolve(); return; }
      for (const e of entries) await readEntry(e, `${path}${entry.name}/`, out);
      batch();
    }, () => resolve());
    batch();
  });
}

/** @param {DragEvent} e */
async function dropFiles(e) {
  e.preventDefault();
  $('files-drop').classList.remove('over');
  const dropped = e.dataTransfer;
  if (state.burning || !dropped) return;
  /** @type {Chosen[]} */
  const out = [];
  const entries = [...dropped.items].map((i) => i.webkitGetAsEntry?.()).filter((entry) => entry != null);
  if (entries.length) {
    for (const entry of entries) await readEntry(entry, '', out);
  } else {
    for (const f of dropped.files) out.push({ path: f.name, file: f });
  }
  for (const { path, file } of out) choose(file, path);
  showChosen();
  updateButtons();
}

// Disc image mode: a chosen file that is no ISO 9660 or UDF image (by the
// volume descriptor at byte 32768, not by its name) would give a disc no
// computer can open; offer to put it on the disc as a file instead.
async function checkImage() {
  const f = chosenFile();
  $('not-image').hidden = true;
  $('packed-image').hidden = true;
  if (!f || mode() !== 'disc') return;
  // A compressed image (by its magic bytes) is decoded while it is written.
  const image = await DiskImage.open(f).catch(() => undefined);
  if (image && image.format !== 'raw') {
    $('packed-image').textContent = `${f.name} is a ${image.format} image${image.entryName ? ` (${image.entryName})` : ''}: ` +
      `it is decompressed while it is written (${imageSizeText(image)}).`;
    $('packed-image').hidden = false;
    return;
  }
  const head = new Uint8Array(await f.slice(32768, 32774).arrayBuffer());
  const id = String.fromCharCode(...head.slice(1, 6));
  if (!['CD001', 'BEA01', 'NSR02', 'NSR03'].includes(id)) {
    $('not-image-text').textContent = `${f.name} is not a disc image: burned as it is, no computer could open the disc.`;
    $('not-image').hidden = false;
  }
}

function currentRecorder() {
  const id = $('recorder', HTMLSelectElement).value;
  return state.recorders.find((x) => x.activeDiscRecorder === id);
}

/**
 * 1x in bytes per second by medium, to name speeds as burners do.
 * @param {number} sectorsPerSecond
 * @param {number[]} profiles
 */
function speedLabel(sectorsPerSecond, profiles) {
  const bytes = sectorsPerSecond * 2048;
  const oneX = profiles.some((p) => p >= 0x40 && p <= 0x43) ? 4.5e6
    : profiles.some((p) => p >= 0x10 && p <= 0x2B) ? 1.385e6 : profiles.some((p) => p >= 8 && p <= 0x0A) ? 153600 : 0;
  const x = oneX ? `${Math.round(bytes / oneX)}x, ` : '';
  return `${x}${(bytes / MB).toFixed(1)} MB/s`;
}

/** @param {DiscRecorder2 | undefined} r */
function showSpeeds(r) {
  const select = $('speed', HTMLSelectElement);
  const keep = select.value;
  /** @type {[string, string][]} */
  const options = [['-1', 'Fastest the drive offers']];
  if (r) {
    for (const s of r.supportedWriteSpeeds) options.push([String(s), speedLabel(s, r.currentProfiles)]);
  }
  select.replaceChildren(...options.map(([v, t]) => {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = t;
    return o;
  }));
  if (options.some(([v]) => v === keep)) select.value = keep;
}

/**
 * A size as a stick's package prints it (decimal units).
 * @param {number} bytes
 */
function packageSize(bytes) {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 0 : 1)} GB`;
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

function showRecorderDetails() {
  const r = currentRecorder();
  const dl = $('recorder-details');
  dl.replaceChildren();
  showSpeeds(r);
  const warning = $('erase-warning');
  warning.hidden = true;
  if (!r) return;
  // A disk is written from its first sector: whatever it holds is gone.
  if (r.mediumKind === 'disk') {
    const size = r.freeSectors == null ? '' : ` (${packageSize(r.freeSectors * r.sectorSize)})`;
    warning.textContent = `Everything on ${r.vendorId} ${r.productId}${size} will be erased.`;
    warning.hidden = false;
  }
  showApproval(r);
  showErase(r);
  showOnDisc(r).catch((e) => log(describeError(e), true));
  $('power-off-row').hidden = r.mediumKind !== 'disk';
  // A disk (USB stick, hard disk) takes only blocks of its own size.
  const bps = $('bps', HTMLSelectElement);
  if (r.mediumKind === 'disk' && bps.querySelector(`option[value="${r.sectorSize}"]`)) {
    bps.value = String(r.sectorSize);
  }
  /** @type {[string, string][]} */
  const rows = [
    ['Device', `${r.vendorId} ${r.productId} ${r.productRevision}`],
    ['Kind', r.kind + (r.inUse ? ' (in use by another page)' : '')],
    ['Medium', r.currentProfiles.map(profileName).join(', ') || 'none'],
    ['Supports', r.supportedProfiles.map(profileName).join(', ')],
    ['Free', r.freeSectors == null ? 'unknown' : `${r.freeSectors} sectors (${(r.freeSectors * r.sectorSize / MB).toFixed(0)} MB)`],
    ['Next writable', r.nextWritableAddress == null ? 'unknown' : `sector ${r.nextWritableAddress}`],
    ['Test write', r.canSimulate ? 'yes' : 'no'],
    ['Id', r.activeDiscRecorder],
  ];
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
}

/**
 * A removable disk the helper found is written only once the person at the
 * computer allowed this site on the helper (its page or its tray icon).
 * @param {DiscRecorder2} r
 */
function showApproval(r) {
  const box = $('ask-device');
  const approval = r.approval;
  box.hidden = approval === undefined || approval === 'approved';
  box.dataset.approval = approval ?? '';
  if (box.hidden) return;
  const ask = $('ask', HTMLButtonElement);
  const asked = state.asked.get(r.activeDiscRecorder);
  if (approval === 'asked') {
    $('ask-text').textContent = `Waiting for you to allow this site on the webburn helper (its page or its tray icon)${asked ? `: code ${asked}` : ''}.`;
    ask.hidden = true;
  } else {
    $('ask-text').textContent = asked
      ? 'The helper did not allow this drive. Ask again if you meant to.'
      : 'This drive was found by the helper. Before this site may write to it, allow it on the helper.';
    ask.hidden = false;
  }
}

/**
 * A CD-RW or DVD-RW that holds a burn can be erased (blanked) to be burned
 * again; a DVD+RW or BD-RE needs no erase: a burn overwrites it.
 * @param {DiscRecorder2} r
 */
function showErase(r) {
  const box = $('erase-disc');
  const profile = profileOf(r);
  const blank = r.nextWritableAddress === 0;
  box.hidden = state.burning || !profileErasable(profile) || blank;
  $('erase-confirm').hidden = true;
  $('erase').hidden = false;
  if (box.hidden) return;
  const closed = r.nextWritableAddress == null;
  $('erase-text').textContent = closed
    ? `This ${profileName(profile)} is closed: erase it to burn it again.`
    : `This ${profileName(profile)} holds a burn. Erase it to start again from a blank disc.`;
}

/** First click: ask. The erase runs only after "Yes, erase it". */
function confirmErase() {
  const r = currentRecorder();
  if (!r) return;
  const how = $('full-erase', HTMLInputElement).checked ? 'every sector' : 'what it holds';
  $('erase-confirm-text').textContent = `Erase ${how} on the ${profileName(profileOf(r))} in ${r.vendorId} ${r.productId}? Nothing on it can be read afterwards.`;
  $('erase-confirm').hidden = false;
  $('erase').hidden = true;
}

/** @param {DiscFormat2EraseUpdateEvent} e */
function onEraseUpdate(e) {
  hideConsent();
  const total = e.estimatedTotalSeconds;
  $('progress', HTMLProgressElement).value = total > 0 ? Math.min(1, e.elapsedSeconds / total) : 0;
  const action = $('action');
  action.dataset.action = 'erasing';
  action.textContent = total > 0
    ? `Erasing the disc: ${e.elapsedSeconds} s of about ${total} s`
    : `Erasing the disc: ${e.elapsedSeconds} s`;
}

/** DiscFormat2Erase: the helper blanks the disc; the form is locked meanwhile. */
async function eraseDisc() {
  const { master, eraser } = library();
  const r = currentRecorder();
  if (!r) return;
  const full = $('full-erase', HTMLInputElement).checked;
  state.burning = true;
  $('erase-disc').hidden = true;
  $('result').textContent = '';
  $('progress', HTMLProgressElement).value = 0;
  updateButtons();
  const started = performance.now();
  try {
    eraser.recorder = master.recorder(r.activeDiscRecorder);
    eraser.fullErase = full;
    log(`erasing the ${profileName(profileOf(r))} in ${r.productId} (${full ? 'full' : 'quick'})`);
    await eraser.eraseMedia();
    const secs = (performance.now() - started) / 1000;
    $('progress', HTMLProgressElement).value = 1;
    $('action').textContent = '';
    const text = `Erased: the disc is blank again (${full ? 'full' : 'quick'} erase, ${secs.toFixed(1)} s).`;
    showResult(text, 'S_OK');
    log(text);
  } catch (e) {
    const failed = isLibraryError(e) ? e : undefined;
    const detail = failed?.detail ? ` – ${failed.detail}` : '';
    showResult(describeError(e) + detail, (e instanceof Error && e.name) || 'error');
    log(describeError(e), true);
  } finally {
    state.burning = false;
    updateButtons();
    refreshRecorders().catch(() => {});
  }
}

/**
 * The next `recorderschanged` of the helper, or `ms` later (an older helper,
 * which does not tell, is asked again every second instead).
 * @param {number} ms
 */
function recordersChange(ms) {
  const { master } = library();
  const wait = master.watchesChanges ? ms : Math.min(ms, 1000);
  return new Promise((resolve) => {
    const done = () => {
      master.removeEventListener('recorderschanged', done);
      clearTimeout(timer);
      resolve(undefined);
    };
    const timer = setTimeout(done, wait);
    master.addEventListener('recorderschanged', done);
  });
}

/** While a drive request waits, the list is read again each time the helper says it changed, until the person decides (at most ten minutes). */
async function waitForApproval() {
  if (state.waitingApproval) return;
  state.waitingApproval = true;
  try {
    const until = Date.now() + 600_000;
    while (currentRecorder()?.approval === 'asked' && Date.now() < until) {
      await recordersChange(until - Date.now());
      if (!state.burning) await refreshRecorders();
    }
    const r = currentRecorder();
    if (r?.approval === 'approved') log(`the helper allowed ${r.vendorId} ${r.productId}`);
    else if (r?.approval === 'needed') log('the helper did not allow the drive', true);
  } finally {
    state.waitingApproval = false;
  }
}

async function askForDevice() {
  const r = currentRecorder();
  if (!r) return;
  try {
    const code = await library().master.requestDevice(r.activeDiscRecorder);
    state.asked.set(r.activeDiscRecorder, code);
    log(`asked the helper for ${r.vendorId} ${r.productId}: allow it there (code ${code})`);
    await refreshRecorders();
    await waitForApproval();
  } catch (e) {
    log(describeError(e), true);
  }
}

async function refreshRecorders() {
  const select = $('recorder', HTMLSelectElement);
  const keep = select.value;
  const recorders = await library().master.recorders();
  state.recorders = recorders;
  select.replaceChildren(...recorders.map((r) => {
    const o = document.createElement('option');
    o.value = r.activeDiscRecorder;
    o.textContent = `${r.vendorId} ${r.productId} – ${r.currentProfiles.map(profileName).join(', ') || 'no medium'}`;
    return o;
  }));
  if (recorders.some((r) => r.activeDiscRecorder === keep)) select.value = keep;
  showRecorderDetails();
  updateButtons();
}

async function refreshPairings() {
  const { master } = library();
  if (!ownPage || master.state !== 'connected') return;
  try {
    const { pending, devices } = await master.listPairings();
    $('pairings').hidden = pending.length === 0;
    $('pairing-list').replaceChildren(...pending.map((p) => {
      const li = document.createElement('li');
      const code = document.createElement('code');
      code.textContent = p.code;
      const origin = document.createElement('span');
      origin.textContent = p.origin;
      const approve = document.createElement('button');
      approve.textContent = 'Approve';
      approve.onclick = () => master.approvePairing(p.code).then(() => log(`approved ${p.origin}`), (e) => log(describeError(e), true)).then(refreshPairings);
      const deny = document.createElement('button');
      deny.textContent = 'Refuse';
      deny.onclick = () => master.denyPairing(p.code).then(() => log(`refused ${p.origin}`), (e) => log(describeError(e), true)).then(refreshPairings);
      li.append(code, origin, approve, deny);
      return li;
    }));
    $('pairings').hidden = pending.length === 0 && devices.length === 0;
    $('device-list').replaceChildren(...devices.map(deviceRequest));
  } catch (e) {
    log(describeError(e), true);
  }
}

/**
 * One site asking for a removable disk, on the helper's own page: allowing
 * a disk over 256 GB takes a second click that names what is erased.
 * @param {import('./pkg/webburn_web.js').Pairings['devices'][number]} d
 */
function deviceRequest(d) {
  const { master } = library();
  const li = document.createElement('li');
  li.className = 'device-request';
  const code = document.createElement('code');
  code.textContent = d.code;
  const what = document.createElement('span');
  what.textContent = consentText(d.act, d.origin, d.device);
  const allow = document.createElement('button');
  allow.textContent = 'Allow';
  allow.className = 'allow-device';
  const decided = (/** @type {Promise<unknown>} */ p, /** @type {string} */ done) =>
    p.then(() => log(done), (e) => log(describeError(e), true)).then(refreshPairings);
  allow.onclick = () => {
    if (d.large && allow.dataset.confirm !== 'yes') {
      allow.dataset.confirm = 'yes';
      allow.textContent = `Yes, erase all ${packageSize(d.sizeBytes)} on it`;
      return;
    }
    decided(master.approveDevice(d.code, d.large), `allowed: ${what.textContent}`);
  };
  const deny = document.createElement('button');
  deny.textContent = 'Refuse';
  deny.className = 'deny-device';
  deny.onclick = () => decided(master.denyDevice(d.code), `refused ${d.origin} ${d.device}`);
  li.append(code, what, allow, deny);
  return li;
}

async function connect() {
  const { master } = library();
  try {
    await master.connect();
    log(`connected to the helper ${master.helperVersion} at ${master.helper}`);
    await refreshPairings();
  } catch (e) {
    log(describeError(e), true);
  }
}

function drawGraph() {
  const { samples } = state;
  const canvas = $('graph', HTMLCanvasElement);
  const g = canvas.getContext('2d');
  if (!g) return;
  const { width: w, height: h } = canvas;
  g.clearRect(0, 0, w, h);
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (samples.length < 2 || !first || !last) return;
  const t0 = first.t;
  const span = Math.max(last.t - t0, 1);
  const maxRate = Math.max(...samples.map((s) => s.rate), 1);
  /**
   * @param {string} color
   * @param {(s: Sample) => number | null} y  0..1, null for no point
   */
  const line = (color, y) => {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    let started = false;
    samples.forEach((s) => {
      const v = y(s);
      if (v == null) return;
      const x = ((s.t - t0) / span) * (w - 10) + 5;
      const yy = h - 5 - v * (h - 20);
      if (!started) g.moveTo(x, yy); else g.lineTo(x, yy);
      started = true;
    });
    g.stroke();
  };
  line(getComputedStyle(document.documentElement).getPropertyValue('--rate'), (s) => s.rate / maxRate);
  line(getComputedStyle(document.documentElement).getPropertyValue('--fill'), (s) => s.fill);
  line(getComputedStyle(document.documentElement).getPropertyValue('--drive'), (s) => s.drive);
  g.fillStyle = '#5b6470';
  g.font = '12px system-ui';
  g.fillText(`${maxRate.toFixed(1)} MB/s`, 6, 13);
}

/** What the helper asks the person to allow, after "whether this site may". */
const CONSENT_WANTS = {
  write: 'write to the disk', erase: 'erase the disc', overwrite: 'burn over the files on the disc',
  read: 'read which files the disc holds',
};

/**
 * A request of this page waits for the person on the helper: say what, and
 * where to allow it (the same code shows there).
 * @param {import('./pkg/webburn_web.js').ConsentNeeded} d
 */
function showConsent(d) {
  const el = $('consent');
  el.textContent = `Waiting for you to allow this on the webburn helper: it asks whether this site may `
    + `${CONSENT_WANTS[d.act]} (code ${d.code}). Its own page and its tray icon show the request.`;
  el.dataset.code = d.code;
  el.hidden = false;
  log(`the helper asks the person to allow this site to ${CONSENT_WANTS[d.act]} (code ${d.code})`);
}

/** The held request went on, or ended. */
function hideConsent() {
  const el = $('consent');
  el.hidden = true;
  delete el.dataset.code;
}

/** @param {WriteEngine2UpdateEvent | DiscFormat2DataUpdateEvent} e */
function onUpdate(e) {
  hideConsent();
  // The sector size the burn uses: the library's for the medium on discs
  // and disks alike, the chosen one for raw sectors.
  const bps = discMode() ? (currentRecorder()?.sectorSize ?? 2048) : library().engine.bytesPerSector;
  const p = progressOf(e, bps);
  if (p.action !== undefined) {
    const step = ACTIONS[p.action] || '';
    const action = $('action');
    if (action.dataset.action !== String(p.action)) log(`step: ${step}`);
    action.textContent = step;
    action.dataset.action = String(p.action);
  }
  // While verifying, the bar and the figures follow the read-back.
  const bar = $('progress', HTMLProgressElement);
  if (state.openEnded && p.action === ACTION_WRITING) {
    // Its end is unknown until the image ends: no fraction of the medium is one of the image.
    bar.removeAttribute('value');
    $('percent').textContent = `${((e.lastWrittenLba - e.startLba + 1) * bps / MB).toFixed(0)} MB written`;
  } else {
    bar.value = p.fraction;
    $('percent').textContent = percentText(p, 1);
  }
  $('rate').textContent = rateText(p.rate);
  $('eta').textContent = p.secondsLeft === null ? 'ETA –' : `ETA ${p.secondsLeft} s`;
  const fill = e.totalSystemBuffer > 0 ? e.usedSystemBuffer / e.totalSystemBuffer : 0;
  $('buffer').textContent = `${(fill * 100).toFixed(0)} %`;
  // The drive's own buffer, when the drive reports it (READ BUFFER CAPACITY).
  const drive = e.driveBufferTotal > 0 ? e.driveBufferUsed / e.driveBufferTotal : null;
  $('drive-buffer').textContent = drive == null ? '–' : `${(drive * 100).toFixed(0)} %`;
  if (!p.verifying) {
    state.samples.push({ t: e.elapsedMs, rate: p.rate / MB, fill, drive });
    drawGraph();
  }
}

/**
 * @param {string} text
 * @param {string} hresultName  S_OK, or what the burn failed with
 */
function showResult(text, hresultName) {
  hideConsent();
  const result = $('result');
  result.textContent = text;
  result.className = hresultName === 'S_OK' ? 'result ok' : 'result bad';
  result.dataset.hresult = hresultName;
}

/** @param {Event} event */
async function burn(event) {
  event.preventDefault();
  const { master, engine } = library();
  const result = $('result');
  const action = $('action');
  state.burning = true;
  state.samples.length = 0;
  result.textContent = '';
  result.className = 'result';
  delete result.dataset.hresult;
  $('progress', HTMLProgressElement).value = 0;
  updateButtons();
  const started = performance.now();
  action.textContent = '';
  delete action.dataset.action;
  try {
    const file = chosenFile();
    const recorder = master.recorder($('recorder', HTMLSelectElement).value);
    if (mode() === 'files') {
      await burnFiles(recorder, started);
      return;
    }
    if (!file) throw new Error('no file is chosen');
    if (discMode()) {
      await burnDisc(file, recorder, started);
      return;
    }
    const bps = Number($('bps', HTMLSelectElement).value);
    const blocks = Math.ceil(file.size / bps);
    // The last sector is padded with zeros (a Blob composition: nothing is copied here).
    const pad = blocks * bps - file.size;
    const data = pad > 0 ? new Blob([file, new Uint8Array(pad)]) : file;
    const lbaText = $('lba', HTMLInputElement).value.trim();
    const lba = lbaText === '' ? (recorder.nextWritableAddress ?? 0) : Number(lbaText);
    engine.recorder = recorder;
    engine.bytesPerSector = bps;
    engine.useStreamingWrite12 = $('streaming', HTMLInputElement).checked;
    log(`burning ${file.name} (${file.size} bytes, ${blocks} sectors of ${bps}) to ${recorder.productId} at sector ${lba}`);
    await engine.writeSection(data, lba, blocks);
    const secs = (performance.now() - started) / 1000;
    const text = `Done: ${(file.size / MB).toFixed(1)} MB written in ${secs.toFixed(1)} s (${(file.size / MB / secs).toFixed(1)} MB/s).`;
    showResult(text, 'S_OK');
    log(text);
  } catch (e) {
    const failed = isLibraryError(e) ? e : undefined;
    const at = failed?.firstBadLba === undefined ? '' : ` (first bad sector ${failed.firstBadLba})`;
    const detail = failed?.detail ? ` – ${failed.detail}` : '';
    showResult(describeError(e) + detail + at, (e instanceof Error && e.name) || 'error');
    log(describeError(e), true);
  } finally {
    state.burning = false;
    updateButtons();
    refreshRecorders().catch(() => {});
  }
}

/**
 * DiscFormat2Data: the helper checks the medium, writes at the next writable
 * address, closes the disc, reads it back and compares.
 * @param {DiscRecorder2} recorder
 * @param {Blob | DiskImage} data
 * @param {string} what  names the data in the result ("67.1 MB", "12 files (5.9 MB)")
 * @param {number} started  performance.now() when the burn started
 */
async function writeDisc(recorder, data, what, started) {
  const { format } = library();
  format.recorder = recorder;
  format.burnVerificationLevel = $('verify', HTMLInputElement).checked ? 2 : 0;
  format.setWriteSpeed(Number($('speed', HTMLSelectElement).value));
  format.simulate = $('simulate', HTMLInputElement).checked;
  format.ejectWhenDone = $('eject', HTMLInputElement).checked;
  format.powerOffWhenDone = recorder.mediumKind === 'disk' && $('power-off', HTMLInputElement).checked;
  format.forceMediaToBeClosed = !(mode() === 'files' && $('leave-open', HTMLInputElement).checked
    && profileTakesSessions(profileOf(recorder)));
  const r = data instanceof DiskImage ? await format.writeImage(data) : await format.write(data);
  const secs = (performance.now() - started) / 1000;
  const parts = [`Done: ${what} in ${secs.toFixed(1)} s`];
  if (r.simulated) parts.push('test write, nothing was recorded');
  if (r.verified) parts.push('verified');
  if (r.ejected) parts.push('ejected');
  if (r.poweredOff) parts.push('powered off: it can be unplugged');
  if (r.partitions?.length) parts.push(`the system sees ${r.partitions.join(', ')}`);
  const text = `${parts.join(', ')}. SHA-256 ${r.sha256}`;
  showResult(text, 'S_OK');
  $('result').dataset.sha256 = r.sha256;
  log(text);
}

/** @param {DiskImage} image */
function imageSizeText(image) {
  return image.size === undefined ? 'its size is known at its end' : `${(image.size / MB).toFixed(1)} MB`;
}

/**
 * @param {File} file
 * @param {DiscRecorder2} recorder
 * @param {number} started
 */
async function burnDisc(file, recorder, started) {
  const image = await DiskImage.open(file);
  if (image.format !== 'raw') {
    log(`writing ${file.name}, a ${image.format} image (${imageSizeText(image)}), to ${recorder.productId}, decompressed on the way`);
    state.openEnded = image.size === undefined;
    try {
      await writeDisc(recorder, image, `${image.format} image ${file.name}`, started);
    } finally {
      state.openEnded = false;
    }
    return;
  }
  log(`burning ${file.name} (${file.size} bytes) to ${recorder.productId}` +
    `${$('simulate', HTMLInputElement).checked ? ' as a test write' : ''}, verify ${$('verify', HTMLInputElement).checked ? 'on' : 'off'}`);
  await writeDisc(recorder, file, `${(file.size / MB).toFixed(1)} MB`, started);
}

/**
 * Files mode: the image is laid out first (refused here, before anything is
 * written, when it does not fit), then burned as a disc.
 * @param {DiscRecorder2} recorder
 * @param {number} started
 */
async function burnFiles(recorder, started) {
  const { chosen } = state;
  const fsi = imageOf(recorder);
  if (addingToDisc(recorder)) {
    const kept = await fsi.importFileSystem(recorder);
    log(`adding to the ${kept} files and folders on the disc (from sector ${fsi.sessionStartAddress})`);
  }
  nameImage(fsi);
  const result = fsi.createResultImage();
  const bytes = result.totalBlocks * result.blockSize;
  log(`image of ${chosen.length} files: ${result.totalBlocks} sectors (${(bytes / MB).toFixed(1)} MB)`);
  await writeDisc(recorder, result.imageStream, `${chosen.length} files (${(bytes / MB).toFixed(1)} MB)`, started);
}

// A helper in kiosk mode runs the kiosk page.
async function kioskHelper() {
  try {
    return Boolean((await (await fetch(`${helperUrl}/v1/status`)).json()).kiosk);
  } catch (e) {
    return false;
  }
}

async function main() {
  if (await kioskHelper()) {
    location.replace(`kiosk.html${location.search}`);
    return;
  }
  await init();
  state.library = {
    master: new DiscMaster2(helperUrl, true), engine: new WriteEngine2(), format: new DiscFormat2Data(), eraser: new DiscFormat2Erase(),
  };
  const { master, engine, format, eraser } = state.library;
  const { samples, chosen } = state;
  // For the browser's console and the end-to-end tests.
  Object.assign(window, {
    webburn: {
      master, engine, format, eraser, samples, chosen, DiscMaster2, WriteEngine2, DiscFormat2Data, DiscFormat2Erase, DiskImage,
      FileSystemImage,
    },
  });
  master.addEventListener('consentneeded', (e) => showConsent(e.detail));
  master.addEventListener('statechange', (e) => {
    showState(e.detail, master.helperUpdate);
    updateButtons();
    log(`state: ${e.detail}`);
    if (e.detail === 'connected' && !state.burning) refreshRecorders().catch((err) => log(describeError(err), true));
  });
  engine.addEventListener('update', onUpdate);
  format.addEventListener('update', onUpdate);
  eraser.addEventListener('update', onEraseUpdate);
  for (const radio of modeRadios()) {
    radio.addEventListener('change', showMode);
  }
  showMode();
  $('burn-form').addEventListener('submit', burn);
  $('cancel').addEventListener('click', async () => {
    log('cancelling…');
    await (discMode() ? format.cancelWrite() : engine.cancelWrite());
  });
  $('retry').addEventListener('click', connect);
  $('ask').addEventListener('click', askForDevice);
  $('erase').addEventListener('click', confirmErase);
  $('erase-yes').addEventListener('click', eraseDisc);
  $('erase-no').addEventListener('click', () => { $('erase-confirm').hidden = true; $('erase').hidden = false; });
  $('refresh').addEventListener('click', () => refreshRecorders().catch((e) => log(describeError(e), true)));
  $('recorder').addEventListener('change', () => { showRecorderDetails(); showChosen(); updateButtons(); });
  $('file').addEventListener('change', () => {
    const f = chosenFile();
    $('file-label').textContent = f ? `${f.name} – ${(f.size / MB).toFixed(1)} MB` : 'Choose a file, or drop it here';
    checkImage();
    updateButtons();
  });
  $('as-file').addEventListener('click', () => {
    const f = chosenFile();
    if (f) choose(f, f.name);
    setMode('files');
  });
  for (const id of ['add-files', 'add-folder']) {
    const input = $(id, HTMLInputElement);
    input.addEventListener('change', () => {
      for (const f of input.files ?? []) choose(f, f.webkitRelativePath || f.name);
      input.value = '';
      showChosen();
      updateButtons();
    });
  }
  $('clear-files').addEventListener('click', () => { chosen.length = 0; showChosen(); updateButtons(); });
  $('volume').addEventListener('input', showChosen);
  const filesDrop = $('files-drop');
  filesDrop.addEventListener('dragover', (e) => { e.preventDefault(); filesDrop.classList.add('over'); });
  filesDrop.addEventListener('dragleave', () => filesDrop.classList.remove('over'));
  filesDrop.addEventListener('drop', dropFiles);
  acceptDrops('drop', 'file', () => !state.burning);
  // The own page's requests: shown again when the helper says they changed
  // (an older helper is asked every 3 s).
  if (ownPage) {
    master.addEventListener('pairingschanged', () => { if (!state.burning) refreshPairings(); });
    setInterval(() => { if (!state.burning && !master.watchesChanges) refreshPairings(); }, 3000);
  }
  showState(master.state, master.helperUpdate);
  updateButtons();
  await connect();
}

main().catch((e) => log(describeError(e), true));
