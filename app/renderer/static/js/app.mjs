// @ts-check
/* global setTimeout, HTMLElement -- browser globals: the page is type-checked with the DOM library by app/renderer/tsconfig.json */
/**
 * The kiosk screens. Everything on screen is derived from the station's status (pushed as events) plus
 * three local things: the language, which screen staff chose, and which finished sheet the voter has
 * already seen. Text is set with textContent only: reasons and messages come from outside the page.
 */
import { playCue } from './cues.mjs';
import { LANGUAGES, isStringKey, t } from './strings.mjs';

/** @typedef {import('../../../preload/kiosk-api').KioskApi} KioskApi */
/** @typedef {import('../../../station/api').StationStatus} StationStatus */
/** @typedef {import('../../../station/api').SheetFeedback} SheetFeedback */
/** @typedef {import('../../../station/api').StationCommand} StationCommand */
/** @typedef {import('../../../station/api').Role} Role */
/** @typedef {import('./strings.mjs').StringKey} StringKey */

/** Which commands each role sees, and in which polls states they make sense (the station still decides). */
/** @type {readonly { command: StationCommand, roles: readonly Role[], when: (s: StationStatus) => boolean }[]} */
const COMMANDS = [
  { command: 'enter-test-mode', roles: ['captain'], when: (s) => s.polls === 'configured' },
  { command: 'print-zero-tape', roles: ['captain'], when: (s) => ['configured', 'testing', 'open'].includes(s.polls) },
  { command: 'open-polls', roles: ['captain'], when: (s) => s.polls === 'configured' || s.polls === 'testing' },
  { command: 'pause-polls', roles: ['poll-worker', 'captain'], when: (s) => s.polls === 'open' },
  { command: 'resume-polls', roles: ['poll-worker', 'captain'], when: (s) => s.polls === 'paused' },
  // An instruction to the poll worker (a jammed ballot, a restart's reconciliation) also holds the feeder until cleared.
  { command: 'clear-alarm', roles: ['poll-worker', 'captain'], when: (s) => s.scanner.alarms.length > 0 || s.attention !== null },
  { command: 'close-polls', roles: ['captain'], when: (s) => s.polls === 'open' || s.polls === 'paused' },
  { command: 'print-results-tape', roles: ['captain'], when: (s) => s.polls === 'closed' || s.polls === 'published' },
  { command: 'publish', roles: ['captain'], when: (s) => s.polls === 'closed' },
  // the roll tore, a copy for the envelope: each press prints one more of the last tape or polls report
  { command: 'reprint-tape', roles: ['poll-worker', 'captain'], when: (s) => s.polls !== 'unconfigured' },
  { command: 'verify-ledger', roles: ['auditor'], when: () => true },
  { command: 'export-bundle', roles: ['auditor'], when: () => true },
];

/** How long a finished sheet's message stays before the screen invites the next voter. */
const SHOW_MS = { counted: 8000, returned: 15000, rejected: 15000 };

/**
 * @param {KioskApi} api
 * @param {Document} doc
 */
export function startKiosk(api, doc) {
  /** @param {string} id */
  const el = (id) => {
    const e = doc.getElementById(id);
    if (e === null) throw new Error(`kiosk page is missing #${id}`);
    return e;
  };
  const ui = {
    body: doc.body,
    electionLine: el('election-line'),
    pollsBadge: el('polls-badge'),
    langButtons: el('lang-buttons'),
    roleLine: el('role-line'),
    staffButton: /** @type {HTMLButtonElement} */ (el('staff-button')),
    logoutButton: /** @type {HTMLButtonElement} */ (el('logout-button')),
    testBanner: el('test-banner'),
    attention: el('attention'),
    voter: el('screen-voter'),
    voterPanel: el('voter-panel'),
    voterIcon: el('voter-icon'),
    voterTitle: el('voter-title'),
    voterHelp: el('voter-help'),
    voterReasons: el('voter-reasons'),
    voterChoices: el('voter-choices'),
    fix: /** @type {HTMLButtonElement} */ (el('btn-fix')),
    castAsIs: /** @type {HTMLButtonElement} */ (el('btn-cast-as-is')),
    confirm: el('confirm'),
    confirmTitle: el('confirm-title'),
    confirmText: el('confirm-text'),
    confirmNo: /** @type {HTMLButtonElement} */ (el('btn-confirm-no')),
    confirmYes: /** @type {HTMLButtonElement} */ (el('btn-confirm-yes')),
    voterCount: el('voter-count'),
    login: el('screen-login'),
    loginTitle: el('login-title'),
    loginForm: /** @type {HTMLFormElement} */ (el('login-form')),
    pin: /** @type {HTMLInputElement} */ (el('pin')),
    loginError: el('login-error'),
    loginCancel: /** @type {HTMLButtonElement} */ (el('login-cancel')),
    staff: el('screen-staff'),
    staffTitle: el('staff-title'),
    counts: el('counts'),
    scannerState: el('scanner-state'),
    alarms: el('alarms'),
    staffSheet: el('staff-sheet'),
    commands: el('commands'),
    lookupForm: /** @type {HTMLFormElement} */ (el('lookup-form')),
    lookupId: /** @type {HTMLInputElement} */ (el('lookup-id')),
    staffResult: el('staff-result'),
    announcer: el('announcer'),
  };

  /** @type {{ lang: string, status: StationStatus | null, screen: 'voter' | 'login' | 'staff', confirming: string | null, seen: Set<string>, connectionLost: boolean }} */
  const local = { lang: 'en', status: null, screen: 'voter', confirming: null, seen: new Set(), connectionLost: false };
  /** @type {Map<string, ReturnType<typeof setTimeout>>} */
  const dismissTimers = new Map();

  /** @param {StringKey} key @param {Record<string, string | number>} [vars] */
  const tr = (key, vars) => t(local.lang, key, vars);

  /** @param {string} text */
  const announce = (text) => {
    ui.announcer.textContent = '';
    // A fresh text node after a clear makes screen readers speak repeated messages too.
    setTimeout(() => (ui.announcer.textContent = text), 30);
  };

  /** @param {HTMLElement} node @param {boolean} shown */
  const show = (node, shown) => {
    node.hidden = !shown;
  };

  // ---- language
  function renderLanguageButtons() {
    ui.langButtons.replaceChildren(
      ...LANGUAGES.map((l) => {
        const b = doc.createElement('button');
        b.type = 'button';
        b.className = 'secondary';
        b.lang = l.code;
        b.textContent = l.name;
        b.dataset['lang'] = l.code;
        b.setAttribute('aria-pressed', String(l.code === local.lang));
        b.addEventListener('click', () => setLanguage(l.code));
        return b;
      }),
    );
  }

  /** @param {string} code */
  function setLanguage(code) {
    local.lang = code;
    doc.documentElement.lang = code;
    for (const b of ui.langButtons.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset['lang'] === code));
    render();
  }

  function translateStatic() {
    for (const node of doc.querySelectorAll('[data-i18n]')) {
      const key = /** @type {HTMLElement} */ (node).dataset['i18n'] ?? '';
      if (isStringKey(key)) node.textContent = tr(key);
    }
    for (const node of doc.querySelectorAll('[data-i18n-label]')) {
      const key = /** @type {HTMLElement} */ (node).dataset['i18nLabel'] ?? '';
      if (isStringKey(key)) node.setAttribute('aria-label', tr(key));
    }
    doc.title = tr('app.title');
  }

  // ---- screens
  /** @param {'voter' | 'login' | 'staff'} screen */
  function go(screen) {
    local.screen = screen;
    render();
    const heading = screen === 'voter' ? ui.voterTitle : screen === 'login' ? ui.loginTitle : ui.staffTitle;
    // A shared kiosk starts every sign-in from the same state: nobody inherits the last person's role choice.
    if (screen === 'login') {
      ui.loginForm.reset();
      ui.loginError.textContent = '';
    }
    (screen === 'login' ? /** @type {HTMLElement} */ (ui.loginForm.querySelector('input[name=role]:checked') ?? heading) : heading).focus();
  }

  /** The sheet the voter should see now, if any. @param {StationStatus} s */
  function voterSheet(s) {
    const sheet = s.sheet;
    if (sheet === null) return null;
    if (sheet.outcome !== 'awaiting-voter' && sheet.outcome !== 'dropping' && local.seen.has(`${sheet.sheetId}:${sheet.outcome}`)) return null;
    return sheet;
  }

  /** @param {SheetFeedback} sheet */
  function scheduleDismiss(sheet) {
    // both last until the station says what became of the sheet
    if (sheet.outcome === 'awaiting-voter' || sheet.outcome === 'dropping') return;
    const key = `${sheet.sheetId}:${sheet.outcome}`;
    if (dismissTimers.has(key) || local.seen.has(key)) return;
    dismissTimers.set(
      key,
      setTimeout(() => {
        dismissTimers.delete(key);
        local.seen.add(key);
        render();
      }, SHOW_MS[sheet.outcome]),
    );
  }

  /** @param {SheetFeedback} sheet */
  function reasonItems(sheet) {
    return sheet.reasons.map((r) => {
      const li = doc.createElement('li');
      const key = `reason.${r.code}`;
      // The station's sentence is English; other languages use their own table, by code.
      const text = local.lang === 'en' ? r.voter : isStringKey(key) ? tr(key) : tr('reason.other');
      li.append(text);
      if (r.contests.length > 0) {
        const c = doc.createElement('span');
        c.className = 'contests';
        c.textContent = tr('voter.contests', { contests: r.contests.join(', ') });
        li.append(c);
      }
      li.dataset['code'] = r.code;
      return li;
    });
  }

  function renderVoter() {
    const s = local.status;
    const sheet = s === null ? null : voterSheet(s);
    /** @type {SheetFeedback['outcome'] | 'insert' | 'paused' | 'closed'} */
    let outcome;
    if (sheet !== null) outcome = sheet.outcome;
    else if (s !== null && (s.polls === 'open' || s.polls === 'testing')) outcome = 'insert';
    else if (s !== null && s.polls === 'paused') outcome = 'paused';
    else outcome = 'closed';
    const view = {
      counted: ['✓', 'voter.counted', 'voter.countedHelp'],
      'awaiting-voter': ['!', 'voter.awaiting', 'voter.awaitingHelp'],
      dropping: ['…', 'voter.dropping', 'voter.droppingHelp'],
      returned: ['↩', 'voter.returned', 'voter.returnedHelp'],
      rejected: ['✕', 'voter.rejected', 'voter.rejectedHelp'],
      insert: ['⬇', 'voter.insert', 'voter.insertHelp'],
      paused: ['‖', 'voter.paused', 'voter.notOpenHelp'],
      closed: ['—', 'voter.notOpen', 'voter.notOpenHelp'],
    }[outcome];
    // A sheet the scanner stopped on is still inside it: the voter cannot take it back, and a new ballot would
    // make two once the poll worker has the stuck one fed again.
    const stopped = sheet !== null && sheet.outcome === 'returned' && sheet.reasons.some((r) => r.code === 'scanner-stopped');
    const [icon, title, help] = /** @type {[string, StringKey, StringKey]} */ (stopped ? ['!', 'voter.stopped', 'voter.stoppedHelp'] : view);
    ui.voterPanel.dataset['outcome'] = outcome;
    ui.voterIcon.textContent = icon;
    ui.voterTitle.textContent = tr(title);
    ui.voterHelp.textContent = tr(help);
    ui.voterReasons.replaceChildren(...(sheet === null || sheet.outcome === 'counted' ? [] : reasonItems(sheet)));
    const choosing = sheet !== null && sheet.outcome === 'awaiting-voter';
    show(ui.voterChoices, choosing && local.confirming === null);
    show(ui.castAsIs, choosing && sheet.canCastAsIs);
    if (!choosing) local.confirming = null;
    show(ui.confirm, choosing && local.confirming === sheet.sheetId);
    if (choosing) {
      const contests = [...new Set(sheet.reasons.flatMap((r) => r.contests))];
      ui.confirmText.textContent = contests.length > 0 ? tr('voter.confirmText', { contests: contests.join(', ') }) : tr('voter.confirmTextNoContests');
    }
    if (sheet !== null) scheduleDismiss(sheet);
    ui.voterCount.textContent = s === null ? '' : tr('voter.count', { n: s.counts.public });
  }

  function renderStaff() {
    const s = local.status;
    if (s === null) return;
    const role = s.role;
    ui.staffTitle.textContent = role === null ? '' : tr(role === 'captain' ? 'captain.heading' : role === 'auditor' ? 'auditor.heading' : 'worker.heading');
    /** @type {[StringKey, number][]} */
    const rows = [
      ['counts.public', s.counts.public],
      ['counts.lifetime', s.counts.lifetime],
      ['counts.returned', s.counts.returned],
      ['counts.rejected', s.counts.rejected],
      ['counts.castAsIs', s.counts.castAsIs],
    ];
    ui.counts.replaceChildren(
      ...rows.flatMap(([key, n]) => {
        const dt = doc.createElement('dt');
        dt.textContent = tr(key);
        const dd = doc.createElement('dd');
        dd.textContent = String(n);
        dd.dataset['count'] = key;
        return [dt, dd];
      }),
    );
    ui.scannerState.textContent = s.scanner.connected ? tr('scanner.connected', { state: s.scanner.state }) : tr('scanner.disconnected');
    const alarms = s.scanner.alarms.map((a) => {
      const li = doc.createElement('li');
      const key = `alarm.${a}`;
      li.textContent = isStringKey(key) ? tr(key) : a;
      return li;
    });
    if (alarms.length === 0) {
      const li = doc.createElement('li');
      li.textContent = tr('scanner.noAlarms');
      li.className = 'none';
      alarms.push(li);
    }
    ui.alarms.replaceChildren(...alarms);
    ui.staffSheet.textContent = s.sheet === null || s.sheet.reasons.length === 0 ? '' : s.sheet.reasons.map((r) => r.pollWorker).join(' ');

    // Buttons persist across renders (keeping focus); only their visibility and words change.
    for (const c of COMMANDS) {
      let b = /** @type {HTMLButtonElement | null} */ (ui.commands.querySelector(`button[data-command="${c.command}"]`));
      if (b === null) {
        b = doc.createElement('button');
        b.type = 'button';
        b.dataset['command'] = c.command;
        b.addEventListener('click', () => void runCommand(c.command));
        ui.commands.append(b);
      }
      b.textContent = tr(/** @type {StringKey} */ (`cmd.${c.command}`));
      b.hidden = role === null || !c.roles.includes(role) || !c.when(s);
    }
    show(ui.lookupForm, role === 'auditor');
  }

  function render() {
    translateStatic();
    const s = local.status;
    ui.electionLine.textContent = s === null ? '' : s.election === null ? tr('election.none') : tr('election.line', { title: s.election.title, precinct: s.election.precinct });
    ui.pollsBadge.textContent = s === null ? '' : tr(/** @type {StringKey} */ (`polls.${s.polls}`));
    show(ui.testBanner, s !== null && (s.mode === 'test' || s.polls === 'testing'));
    // The station's instructions name ballots by ID, and a ballot's record is public once published: whoever
    // reads an ID off the screen next to its voter could look up the vote. Only a signed-in role sees them.
    const attention = local.connectionLost
      ? tr('error.connection')
      : s?.attention
        ? (s.role ?? null) === null
          ? tr('alarm.attentionVoter')
          : tr('alarm.attention', { text: s.attention })
        : null;
    ui.attention.textContent = attention ?? '';
    show(ui.attention, attention !== null);
    const role = s?.role ?? null;
    // A role that ended elsewhere (timeout, another window) takes the staff screens with it.
    if (role === null && local.screen === 'staff') local.screen = 'voter';
    ui.roleLine.textContent = role === null ? '' : tr('role.signedIn', { role: tr(/** @type {StringKey} */ (`role.${role}`)) });
    show(ui.roleLine, role !== null);
    show(ui.logoutButton, role !== null);
    show(ui.staffButton, local.screen === 'voter');
    show(ui.voter, local.screen === 'voter');
    show(ui.login, local.screen === 'login');
    show(ui.staff, local.screen === 'staff');
    ui.body.dataset['screen'] = local.screen;
    renderVoter();
    renderStaff();
  }

  // ---- actions
  /** @param {StationCommand} command */
  async function runCommand(command) {
    const r = await api.command({ command });
    const text = r.ok ? [tr('cmd.done', { message: r.value.message }), r.value.file ? tr('cmd.file', { file: r.value.file }) : ''].filter(Boolean).join(' ') : tr('error.refused', { message: r.error.message });
    ui.staffResult.textContent = text;
    ui.staffResult.dataset['ok'] = String(r.ok);
    if (r.ok) await refresh();
    // The pressed button may have gone (polls opened): keep keyboard users on the outcome, not on <body>.
    const active = doc.activeElement;
    if (active === null || active === doc.body || (active instanceof HTMLElement && active.closest('[hidden]') !== null)) ui.staffResult.focus();
  }

  async function refresh() {
    try {
      local.status = await api.status();
      local.connectionLost = false;
    } catch {
      local.connectionLost = true;
    }
    render();
  }

  ui.staffButton.addEventListener('click', () => go(local.status?.role ? 'staff' : 'login'));
  ui.logoutButton.addEventListener('click', async () => {
    await api.logout();
    ui.staffResult.textContent = '';
    await refresh();
    go('voter');
  });
  ui.loginCancel.addEventListener('click', () => go('voter'));
  ui.loginForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const roleInput = /** @type {HTMLInputElement | null} */ (ui.loginForm.querySelector('input[name=role]:checked'));
    const role = /** @type {Role} */ (roleInput?.value ?? 'poll-worker');
    const pin = ui.pin.value.trim();
    if (!/^\d{4,12}$/.test(pin)) {
      ui.loginError.textContent = tr('login.badPin');
      ui.pin.focus();
      return;
    }
    const r = await api.login({ role, pin });
    ui.pin.value = '';
    if (!r.ok) {
      const lockedUntil = local.status?.lockedOutUntil;
      ui.loginError.textContent = tr('error.refused', { message: r.error.message }) + (lockedUntil ? ` ${tr('login.lockedOut', { time: lockedUntil })}` : '');
      ui.pin.focus();
      return;
    }
    ui.loginError.textContent = '';
    await refresh();
    go('staff');
  });
  ui.lookupForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const ballotId = ui.lookupId.value.trim();
    if (ballotId.length === 0) return;
    const r = await api.lookupBallot({ ballotId });
    if (!r.ok) ui.staffResult.textContent = tr('error.refused', { message: r.error.message });
    else {
      const v = r.value;
      ui.staffResult.textContent =
        v.state === 'cast' ? (v.batch === null ? tr('lookup.castNoBatch', { id: v.ballotId }) : tr('lookup.cast', { id: v.ballotId, batch: v.batch })) : tr(v.state === 'pending' ? 'lookup.pending' : 'lookup.not-found', { id: v.ballotId });
    }
  });

  // The voter's choice on a held ballot: fixing is one step, casting as is asks once more.
  ui.fix.addEventListener('click', () => void decide('return'));
  ui.castAsIs.addEventListener('click', () => {
    const sheet = local.status?.sheet;
    if (!sheet || sheet.outcome !== 'awaiting-voter') return;
    local.confirming = sheet.sheetId;
    render();
    ui.confirmNo.focus();
  });
  ui.confirmNo.addEventListener('click', () => {
    local.confirming = null;
    render();
    ui.castAsIs.focus();
  });
  ui.confirmYes.addEventListener('click', () => void decide('cast-as-is'));
  // Keep Tab inside the confirmation while it is open; Escape answers "no".
  ui.confirm.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      ui.confirmNo.click();
    } else if (ev.key === 'Tab') {
      const first = ui.confirmNo;
      const last = ui.confirmYes;
      if (ev.shiftKey && doc.activeElement === first) {
        ev.preventDefault();
        last.focus();
      } else if (!ev.shiftKey && doc.activeElement === last) {
        ev.preventDefault();
        first.focus();
      }
    }
  });

  /** @param {'cast-as-is' | 'return'} decision */
  async function decide(decision) {
    const sheet = local.status?.sheet;
    if (!sheet || sheet.outcome !== 'awaiting-voter') return;
    const r = await api.voterDecision({ sheetId: sheet.sheetId, decision });
    local.confirming = null;
    if (!r.ok) announce(tr('error.refused', { message: r.error.message }));
    await refresh();
    ui.voterTitle.focus();
  }

  // ---- station events
  api.subscribe((e) => {
    switch (e.type) {
      case 'status':
        local.status = e.status;
        local.connectionLost = false;
        break;
      case 'sheet':
        if (local.status !== null) local.status = { ...local.status, sheet: e.feedback };
        break;
      case 'cue':
        playCue(e.cue);
        ui.body.dataset['flash'] = e.cue;
        setTimeout(() => {
          if (ui.body.dataset['flash'] === e.cue) delete ui.body.dataset['flash'];
        }, 600);
        return;
      case 'alarm':
        break;
    }
    const before = ui.voterTitle.textContent;
    render();
    // Voters who cannot see the screen hear each new outcome once.
    if (local.screen === 'voter' && ui.voterTitle.textContent !== before) announce(ui.voterTitle.textContent ?? '');
  });

  renderLanguageButtons();
  render();
  void refresh();
}
