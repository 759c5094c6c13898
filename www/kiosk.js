// The kiosk page and duplicator: choose a file once, burn it onto every
// drive of the station at the same time (one upload, DiscFormat2Data.duplicate),
// verify, eject, and for more copies count down while the operator changes
// discs. Errors of one drive show on its tile; the others go on. The counter
// and history come from the helper in kiosk mode (GET /v1/history). A photo
// kiosk (`files = true` in the kiosk file) takes the customer's files and
// folders and burns them as a disc every computer opens (FileSystemImage),
// the one image streamed to every drive.
import init, { DiscFormat2Data, DiscMaster2, FileSystemImage } from './pkg/webburn_web.js';
import {
  $, ACTIONS, MB, acceptDrops, describeError, helperUrl, profileName, showState,
} from './common.js';

// What the helper's kiosk settings say (GET /v1/status), or these defaults
// when the helper is not in kiosk mode.
let settings = {
  title: 'Disc station', copies: 1, verification: 2, eject: true, countdownSeconds: 15, files: false,
};
// A photo kiosk's chosen files, each at its path on the disc.
const photos = [];
let kioskMode = false;
let master;
let format;
let drives = [];
let running = false;
let stopping = false;
// Outside kiosk mode the page counts for itself.
const local = { ok: 0, failed: 0, recent: [] };
// Resolves the countdown early ("Start now", "Stop").
let skipCountdown = null;

function setPhase(phase, text) {
  $('phase').dataset.phase = phase;
  $('phase').textContent = text;
}

function copies() {
  const n = Math.floor(Number($('copies').value));
  return n >= 1 && n <= 99 ? n : 1;
}

// What each disc gets: the chosen file, or (a photo kiosk) the image of the
// chosen files, laid out here; `null` while nothing is chosen.
function source() {
  if (!settings.files) return $('file').files[0] || null;
  if (!photos.length) return null;
  const fsi = new FileSystemImage();
  fsi.volumeName = settings.title.slice(0, 32);
  for (const p of photos) fsi.root.addFile(p.path, p.file);
  return fsi.createResultImage().imageStream;
}

function chosenBytes() {
  return settings.files ? photos.reduce((n, p) => n + p.file.size, 0) : ($('file').files[0] || { size: 0 }).size;
}

function updateButtons() {
  const connected = master && master.state === 'connected';
  const file = settings.files ? photos.length > 0 : $('file').files[0];
  $('start').disabled = !connected || running || !file || drives.length === 0;
  $('folder').disabled = running;
  $('stop').disabled = !running;
  $('file').disabled = running;
  $('copies').disabled = running;
  const n = copies();
  $('plan').textContent = drives.length === 0 ? 'No drive is free.'
    : `${drives.length} drive${drives.length > 1 ? 's' : ''} × ${n} cop${n > 1 ? 'ies' : 'y'} = ${drives.length * n} discs` +
      (file ? ` of ${(chosenBytes() / MB).toFixed(1)} MB` : '');
}

function driveName(r, i) {
  const medium = r.currentProfiles.map(profileName).join(', ') || 'no disc';
  return [`Drive ${i + 1}`, `${r.productId} · ${medium}`];
}

// One tile per drive; update events and outcomes fill it in. The tiles stay
// (with the last outcomes) while the drives are the same.
function showDrives() {
  const ids = drives.map((r) => r.activeDiscRecorder).join('\n');
  if ($('drives').dataset.ids === ids) return;
  $('drives').dataset.ids = ids;
  $('drives').replaceChildren(...drives.map((r, i) => {
    const li = document.createElement('li');
    li.className = 'drive';
    li.dataset.index = String(i);
    li.dataset.state = 'idle';
    const [name, detail] = driveName(r, i);
    const h = document.createElement('h3');
    const title = document.createElement('span');
    title.textContent = name;
    const stop = document.createElement('button');
    stop.type = 'button';
    stop.className = 'stop-drive';
    stop.textContent = 'Stop';
    stop.hidden = true;
    stop.onclick = () => format.cancelWrite(i);
    h.append(title, stop);
    const small = document.createElement('p');
    small.className = 'figures';
    small.textContent = detail;
    const step = document.createElement('p');
    step.className = 'step';
    step.textContent = 'Waiting';
    const bar = document.createElement('progress');
    bar.max = 1;
    bar.value = 0;
    const figures = document.createElement('p');
    figures.className = 'figures rate';
    const outcome = document.createElement('p');
    outcome.className = 'outcome';
    const technical = document.createElement('p');
    technical.className = 'technical';
    li.append(h, small, step, bar, figures, outcome, technical);
    return li;
  }));
}

function tile(i) {
  return $('drives').querySelector(`li[data-index="${i}"]`);
}

function onUpdate(e) {
  const li = tile(e.recorderIndex);
  if (!li) return;
  const verifying = e.currentAction === 7;
  li.querySelector('.step').textContent = ACTIONS[e.currentAction] || '';
  li.dataset.action = String(e.currentAction);
  const done = verifying ? e.lastVerifiedLba - e.startLba + 1 : e.lastWrittenLba - e.startLba + 1;
  const progress = e.sectorCount > 0 ? Math.min(Math.max(done / e.sectorCount, 0), 1) : 0;
  li.querySelector('progress').value = progress;
  const rate = verifying ? e.verifyBytesPerSecond : e.currentBytesPerSecond;
  li.querySelector('.rate').textContent =
    `${(progress * 100).toFixed(0)} %${verifying ? ' verified' : ''} · ${(rate / MB).toFixed(1)} MB/s` +
    (e.remainingTime >= 0 && e.currentAction !== 6 ? ` · ${e.remainingTime} s left` : '');
}

// What an operator should do about a drive's failure.
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

function operatorText(e) {
  if (e.name === 'E_INVALIDARG' && /next writable address/.test(e.detail || '')) {
    return 'The disc already holds data – put in a blank one';
  }
  return OPERATOR_TEXT[e.name] || 'The burn failed';
}

function showOutcome(o) {
  const li = tile(o.recorderIndex);
  if (!li) return;
  li.querySelector('.stop-drive').hidden = true;
  li.dataset.state = o.ok ? 'ok' : 'failed';
  li.dataset.hresult = o.ok ? 'S_OK' : o.error.name;
  li.querySelector('.outcome').textContent = o.ok
    ? `✓ ${o.report.verified ? 'Verified' : 'Written'}${o.report.ejected ? ', ejected' : ''}`
    : `✗ ${operatorText(o.error)}`;
  li.querySelector('.technical').textContent = o.ok
    ? `SHA-256 ${o.report.sha256}` : describeError(o.error);
  if (o.ok) li.querySelector('progress').value = 1;
  if (!kioskMode) {
    local[o.ok ? 'ok' : 'failed'] += 1;
    local.recent.unshift({ timeMs: Date.now(), recorder: o.recorderId, ok: o.ok,
      result: o.ok ? 'S_OK' : o.error.name, sha256: o.ok ? o.report.sha256 : undefined });
  }
}

async function refreshHistory() {
  let view = local;
  if (kioskMode) {
    try {
      const r = await fetch(`${helperUrl}/v1/history`);
      if (r.ok) view = await r.json();
    } catch (e) {
      // The helper is away; the counter shows what it showed.
      return;
    }
  }
  $('counter').dataset.ok = String(view.ok);
  $('counter').dataset.failed = String(view.failed);
  $('counter').textContent = `${view.ok} burned · ${view.failed} failed`;
  $('history').replaceChildren(...view.recent.slice(0, 50).map((d) => {
    const li = document.createElement('li');
    if (!d.ok) li.className = 'failed';
    const i = drives.findIndex((r) => r.activeDiscRecorder === d.recorder);
    const who = i >= 0 ? `Drive ${i + 1}` : d.recorder;
    li.textContent = `${new Date(d.timeMs).toLocaleTimeString()} · ${who} · ` +
      (d.ok ? `ok${d.verified ? ', verified' : ''}${d.sha256 ? ` · ${d.sha256.slice(0, 12)}…` : ''}` : d.result);
    return li;
  }));
}

async function refreshDrives() {
  const all = await master.recorders();
  // A drive another page is using is not this station's to burn.
  drives = all.filter((r) => !r.inUse);
  showDrives();
  updateButtons();
}

// Waits `seconds` (or until "Start now" / "Stop"), showing what to do.
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
      skipCountdown = null;
      resolve();
    }
    skipCountdown = finish;
    if (left <= 0) finish();
  });
}

// One copy on every drive at once; returns how many drives succeeded.
async function burnCopy(file, copy, total) {
  await refreshDrives();
  if (drives.length === 0) throw new Error('no drive is free');
  format.recorder = drives[0];
  format.clearDuplicateRecorders();
  for (const d of drives.slice(1)) format.addDuplicateRecorder(d);
  format.burnVerificationLevel = settings.verification;
  format.ejectWhenDone = settings.eject;
  for (const li of $('drives').children) {
    li.dataset.state = 'burning';
    delete li.dataset.hresult;
    li.querySelector('.stop-drive').hidden = false;
    li.querySelector('.step').textContent = 'Starting';
    li.querySelector('progress').value = 0;
    li.querySelector('.rate').textContent = '';
    li.querySelector('.outcome').textContent = '';
    li.querySelector('.technical').textContent = '';
  }
  setPhase('burning', `Copy ${copy} of ${total}: burning ${drives.length} disc${drives.length > 1 ? 's' : ''}`);
  const outcomes = await format.duplicate(file);
  outcomes.forEach(showOutcome);
  await refreshHistory();
  return outcomes.filter((o) => o.ok).length;
}

async function run() {
  if (running) return;
  let file;
  try {
    file = source();
  } catch (e) {
    setPhase('error', `${describeError(e)}. Choose fewer files.`);
    return;
  }
  if (!file) return;
  running = true;
  stopping = false;
  updateButtons();
  const total = copies();
  let ok = 0;
  let tried = 0;
  try {
    for (let copy = 1; copy <= total && !stopping; copy += 1) {
      if (copy > 1) {
        await countdown(settings.countdownSeconds, copy, total);
        if (stopping) break;
      }
      ok += await burnCopy(file, copy, total);
      tried += drives.length;
    }
    if (stopping) {
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
    running = false;
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
      settings = status.kiosk;
      kioskMode = true;
    }
  } catch (e) {
    // No helper yet: the defaults, and the connection state says why.
  }
  $('title').textContent = settings.title;
  document.title = `${settings.title} – webburn`;
  $('copies').value = String(settings.copies);
  if (settings.files) {
    $('setup-title').textContent = '1 · Choose the photos';
    $('file').multiple = true;
    $('file-label').textContent = 'Choose photos, or drop them here';
    $('folder-row').hidden = false;
  }
}

// A photo kiosk: the chosen files (and folders) as the disc's contents.
function showPhotos() {
  const n = photos.length;
  $('file-label').textContent = n ? `${n} photo${n > 1 ? 's' : ''} – ${(chosenBytes() / MB).toFixed(1)} MB`
    : 'Choose photos, or drop them here';
  setPhase('ready', 'Ready for the next disc');
  updateButtons();
}

async function main() {
  await init();
  await loadSettings();
  master = new DiscMaster2(helperUrl, true);
  format = new DiscFormat2Data();
  format.addEventListener('update', onUpdate);
  window.webburn = { master, format, settings, kioskMode };
  master.addEventListener('statechange', (e) => {
    showState(e.detail);
    updateButtons();
    if (e.detail === 'connected' && !running) {
      if ($('phase').dataset.phase === 'error') setPhase('ready', 'Ready for the next disc');
      refreshDrives().catch((err) => setPhase('error', describeError(err)));
    }
  });
  $('start').addEventListener('click', run);
  $('stop').addEventListener('click', async () => {
    stopping = true;
    if (skipCountdown) skipCountdown();
    setPhase('stopping', 'Stopping…');
    await format.cancelWrite();
  });
  $('now').addEventListener('click', () => { if (skipCountdown) skipCountdown(); });
  $('retry').addEventListener('click', () => master.connect().catch(() => {}));
  $('copies').addEventListener('input', updateButtons);
  $('folder').addEventListener('change', () => {
    for (const f of $('folder').files) photos.push({ path: f.webkitRelativePath || f.name, file: f });
    $('folder').value = '';
    showPhotos();
  });
  $('file').addEventListener('change', () => {
    if (settings.files) {
      for (const f of $('file').files) {
        if (!photos.some((p) => p.path === f.name)) photos.push({ path: f.name, file: f });
      }
      showPhotos();
      return;
    }
    const f = $('file').files[0];
    $('file-label').textContent = f ? `${f.name} – ${(f.size / MB).toFixed(1)} MB` : 'Choose a file, or drop it here';
    setPhase('ready', 'Ready for the next disc');
    updateButtons();
  });
  acceptDrops('drop', 'file', () => !running);
  showState(master.state);
  updateButtons();
  await refreshHistory();
  try {
    await master.connect();
  } catch (e) {
    setPhase('error', describeError(e));
  }
}

main().catch((e) => setPhase('error', describeError(e)));
