// What the burning page and the kiosk page share: the helper to talk to,
// connection states in words, error text, the burn steps and medium names.

export const $ = (id) => document.getElementById(id);
export const MB = 1e6;

// The helper to talk to: ?helper=URL, else the origin that served this page.
const params = new URLSearchParams(location.search);
export const helperUrl = params.get('helper') || location.origin;
export const ownPage = helperUrl === location.origin;

export const STATE_TEXT = {
  idle: 'Not connected',
  connecting: 'Connecting to the helper…',
  helperNotRunning: 'Helper not running',
  localNetworkDenied: 'Local network access denied',
  pairingPending: 'Waiting for approval on the helper',
  pairingRefused: 'This site was refused by the helper',
  connected: 'Connected',
  disconnected: 'Connection lost – reconnecting…',
};

export const STATE_HELP = {
  helperNotRunning:
    `Nothing answers at ${helperUrl}. Start the webburn helper (webburn-helper serve), then try again.`,
  localNetworkDenied:
    'Your browser does not let this page reach programs on this computer. Allow local network ' +
    'access for this site in the browser\'s site settings, then try again.',
  pairingPending:
    'The helper asks its user to approve this site. On the computer running the helper, run ' +
    '"webburn-helper pair list" to see the code, then "webburn-helper pair approve CODE" ' +
    '(or approve it on the helper\'s own page).',
  pairingRefused: 'The helper\'s user refused this site (or did not answer in time). Try again to ask anew.',
  disconnected: 'The connection to the helper was lost. Trying again…',
};

// Shows the connection state in the header (#state) and, when the user can
// do something about it, what in the #connection panel.
export function showState(state) {
  const el = $('state');
  el.dataset.state = state;
  el.textContent = STATE_TEXT[state] || state;
  const help = STATE_HELP[state];
  $('connection').hidden = !help;
  $('connection-text').textContent = help || '';
  $('retry').hidden = state === 'pairingPending' || state === 'disconnected';
}

// "NAME (0xHRESULT): message" for the library's errors.
export function describeError(e) {
  if (e && typeof e.hresult === 'number') {
    const hex = '0x' + (e.hresult >>> 0).toString(16).toUpperCase().padStart(8, '0');
    return `${e.name} (${hex}): ${e.message}`;
  }
  return String(e && e.message ? e.message : e);
}

// IMAPI_FORMAT2_DATA_WRITE_ACTION, for people.
export const ACTIONS = ['Checking the disc', 'Formatting', 'Preparing the drive', 'Calibrating',
  'Writing', 'Closing the disc', 'Done', 'Verifying'];

export function profileName(p) {
  return { 0x02: 'removable disk', 0x08: 'CD-ROM', 0x09: 'CD-R', 0x0A: 'CD-RW', 0x11: 'DVD-R', 0x1B: 'DVD+R',
    0x1A: 'DVD+RW', 0x2B: 'DVD+R DL', 0x40: 'BD-ROM', 0x41: 'BD-R', 0x43: 'BD-RE' }[p] || `0x${p.toString(16)}`;
}

// Lets a file be dropped on the label `dropId` for the file input `inputId`
// (which then fires `change`), while `allowed()` says so.
export function acceptDrops(dropId, inputId, allowed = () => true) {
  const drop = $(dropId);
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files.length && allowed()) {
      $(inputId).files = e.dataTransfer.files;
      $(inputId).dispatchEvent(new Event('change'));
    }
  });
}
