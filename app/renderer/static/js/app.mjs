// @ts-check
/* global setTimeout, HTMLElement -- browser globals: the page is type-checked with the DOM library by app/renderer/tsconfig.json */
/**
 * The kiosk screens. Everything on screen is derived from the station's status (pushed as events) plus
 * three local things: the language, which screen staff chose, and which finished sheet the voter has
 * already seen. Text is set with textContent only: reasons and messages come from outside the page.
 */
import { playCue } from './cues.mjs';
import { LANGUAGES, isStringKey, t } from './strings.mjs';
import { TEXT_SIZES, contestNames, electionNames, waitsForPollWorker } from './voter-view.mjs';
import { DEFAULT_VOTER_IDLE_SECONDS, watchVoterIdle } from './voter-idle.mjs';
import { adjudicationView } from './adjudication-view.mjs';

/** @typedef {import('../../../preload/kiosk-api').KioskApi} KioskApi */
/** @typedef {import('../../../station/api').StationStatus} StationStatus */
/** @typedef {import('../../../station/api').SheetFeedback} SheetFeedback */
/** @typedef {import('../../../station/api').StationCommand} StationCommand */
/** @typedef {import('../../../station/api').Role} Role */
/** @typedef {import('./strings.mjs').StringKey} StringKey */
/** @typedef {import('./voter-view.mjs').TextSize} TextSize */

/** Commands the station does only with the person's explicit yes (it refuses them with `confirmation-required`). */
/** @type {ReadonlySet<StationCommand>} */
const CONFIRMED = new Set(['open-polls', 'close-polls', 'enter-test-mode', 'publish']);

/** Which commands each role sees, and in which polls states they make sense (the station still decides). */
/** @type {readonly { command: StationCommand, roles: readonly Role[], when: (s: StationStatus) => boolean }[]} */
const COMMANDS = [
  { command: 'enter-test-mode', roles: ['captain'], when: (s) => s.polls === 'configured' },
  { command: 'leave-test-mode', roles: ['captain'], when: (s) => s.polls === 'testing' },
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
 * @param {{ voterIdleMs?: number }} [options] voterIdleMs: a voter's language and text size go back to the start after this long untouched
 */
export function startKiosk(api, doc, options = {}) {
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
    sizeButtons: el('size-buttons'),
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
    staffLockouts: el('staff-lockouts'),
    staffCounty: el('staff-county'),
    commands: el('commands'),
    staffConfirm: el('staff-confirm'),
    staffConfirmTitle: el('staff-confirm-title'),
    staffConfirmText: el('staff-confirm-text'),
    staffConfirmNo: /** @type {HTMLButtonElement} */ (el('btn-staff-confirm-no')),
    staffConfirmYes: /** @type {HTMLButtonElement} */ (el('btn-staff-confirm-yes')),
    lookupForm: /** @type {HTMLFormElement} */ (el('lookup-form')),
    lookupId: /** @type {HTMLInputElement} */ (el('lookup-id')),
    staffResult: el('staff-result'),
    announcer: el('announcer'),
  };

  /**
   * size: the voter's text size; staffConfirming: the command waiting for the staff member's yes; countedFor:
   * the counted sheet on screen, whose voter's language and text size end when it goes
   * @type {{ lang: string, size: TextSize, status: StationStatus | null, screen: 'voter' | 'login' | 'staff', confirming: string | null, staffConfirming: StationCommand | null, countedFor: string | null, seen: Set<string>, connectionLost: boolean }}
   */
  const local = { lang: 'en', size: 'normal', status: null, screen: 'voter', confirming: null, staffConfirming: null, countedFor: null, seen: new Set(), connectionLost: false };
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

  // the auditor's marginal marks and write-ins after the close (adjudication-view.mjs)
  const adjudication = adjudicationView(api, doc, el('adjudication'), tr, (message) => {
    ui.staffResult.textContent = message;
    announce(message);
  });

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

  // ---- text size
  function renderSizeButtons() {
    ui.sizeButtons.replaceChildren(
      ...TEXT_SIZES.map((size, i) => {
        const b = doc.createElement('button');
        b.type = 'button';
        b.className = 'secondary';
        b.textContent = `A${'+'.repeat(i)}`;
        b.dataset['size'] = size;
        b.dataset['i18nLabel'] = `size.${size}`;
        b.setAttribute('aria-pressed', String(size === local.size));
        b.addEventListener('click', () => setTextSize(size));
        return b;
      }),
    );
  }

  /** @param {TextSize} size */
  function setTextSize(size) {
    local.size = size;
    if (size === TEXT_SIZES[0]) delete doc.documentElement.dataset['textSize'];
    else doc.documentElement.dataset['textSize'] = size;
    for (const b of ui.sizeButtons.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset['size'] === size));
    render();
  }

  /** The next voter starts as every voter does: a shared screen keeps no one's language or text size. */
  function resetVoterChoices() {
    local.countedFor = null;
    if (local.size !== TEXT_SIZES[0]) setTextSize(TEXT_SIZES[0]);
    if (local.lang !== LANGUAGES[0].code) setLanguage(LANGUAGES[0].code);
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
        c.textContent = tr('voter.contests', { contests: contestNames(local.status, r.contests, local.lang).join('; ') });
        li.append(c);
      }
      li.dataset['code'] = r.code;
      return li;
    });
  }

  function renderVoter() {
    const s = local.status;
    const sheet = s === null ? null : voterSheet(s);
    // A voter's turn ends when the counted message goes (its timer, or the next sheet going in)
    if (local.countedFor !== null && (sheet === null || sheet.sheetId !== local.countedFor)) resetVoterChoices();
    if (sheet !== null && sheet.outcome === 'counted') local.countedFor = sheet.sheetId;
    // The feeder is stopped for a poll worker: a voter must not be invited to feed, nor told to take a
    // ballot and feed it again; only a choice still to make or a ballot on its way into the box stays.
    const waiting = s !== null && waitsForPollWorker(s) && (sheet === null || (sheet.outcome !== 'awaiting-voter' && sheet.outcome !== 'dropping' && sheet.outcome !== 'counted'));
    /** @type {SheetFeedback['outcome'] | 'insert' | 'paused' | 'closed' | 'wait'} */
    let outcome;
    if (waiting) outcome = 'wait';
    else if (sheet !== null) outcome = sheet.outcome;
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
      wait: ['!', 'voter.wait', 'voter.waitHelp'],
    }[outcome];
    // A sheet the scanner stopped on is still inside it: the voter cannot take it back, and a new ballot would
    // make two once the poll worker has the stuck one fed again.
    const stopped = sheet !== null && sheet.outcome === 'returned' && sheet.reasons.some((r) => r.code === 'scanner-stopped');
    const [icon, title, help] = /** @type {[string, StringKey, StringKey]} */ (stopped ? ['!', waiting ? 'voter.wait' : 'voter.stopped', 'voter.stoppedHelp'] : view);
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
      ui.confirmText.textContent = contests.length > 0 ? tr('voter.confirmText', { contests: contestNames(s, contests, local.lang).join('; ') }) : tr('voter.confirmTextNoContests');
    }
    if (sheet !== null) scheduleDismiss(sheet);
    ui.voterCount.textContent = s === null ? '' : tr('voter.count', { n: s.counts.public });
  }

  /**
   * The station's words as a sentence of their own on the screen: the county reporter's start in lower case
   * and end without a stop ("batch 1: the county log cannot be reached …; the station keeps trying").
   * @param {string} text
   */
  function asSentence(text) {
    const t = text.trim();
    return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
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
    // "ready" while an alarm stops the feeder would send a poll worker looking elsewhere (the export warning does not stop it)
    ui.scannerState.textContent = !s.scanner.connected ? tr('scanner.disconnected') : s.scanner.alarms.some((a) => a !== 'export-warning') ? tr('scanner.stopped') : tr('scanner.connected', { state: s.scanner.state });
    const alarms = s.scanner.alarms.map((a) => {
      const li = doc.createElement('li');
      const key = `alarm.${a}`;
      const name = doc.createElement('span');
      name.className = 'name';
      name.textContent = isStringKey(key) ? tr(key) : a;
      li.append(name);
      li.dataset['alarm'] = a;
      const todoKey = `alarmHelp.${a}`;
      if (isStringKey(todoKey)) {
        const todo = doc.createElement('span');
        todo.className = 'todo';
        todo.textContent = tr(todoKey);
        li.append(todo);
      }
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
    // which roles' sign-ins wrong PINs have locked, and until when (only a signed-in browser is told)
    ui.staffLockouts.textContent = Object.entries(s.lockedOut ?? {})
      .map(([r, until]) => tr('login.lockedOut', { role: tr(/** @type {StringKey} */ (`role.${r}`)), time: new Date(until).toLocaleTimeString(local.lang, { hour: '2-digit', minute: '2-digit' }) }))
      .join(' ');
    // with a county log set: how many of the station's signed checkpoints the county has, and what holds the rest
    const c = s.county;
    ui.staffCounty.textContent = c === undefined ? '' : `${tr('staff.county', { reported: String(c.reported), total: String(c.total), proven: String(c.proven) })}${c.waiting === null ? '' : ` ${asSentence(c.waiting)}`}`;

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
      b.hidden = role === null || !c.roles.includes(role) || !c.when(s) || local.staffConfirming !== null;
    }
    // the question stays only while the command is still one this role may give now
    const asked = COMMANDS.find((c) => c.command === local.staffConfirming);
    if (asked !== undefined && (role === null || !asked.roles.includes(role) || !asked.when(s))) local.staffConfirming = null;
    show(ui.staffConfirm, local.staffConfirming !== null);
    if (local.staffConfirming !== null) {
      const c = local.staffConfirming;
      ui.staffConfirmTitle.textContent = tr(/** @type {StringKey} */ (`confirm.${c}`));
      ui.staffConfirmText.textContent = tr(/** @type {StringKey} */ (`confirm.${c}Text`));
      ui.staffConfirmYes.textContent = tr(/** @type {StringKey} */ (`confirm.${c}Yes`));
    }
    show(ui.lookupForm, role === 'auditor');
    adjudication.render(s);
  }

  function render() {
    translateStatic();
    const s = local.status;
    const names = s === null ? null : electionNames(s, local.lang);
    ui.electionLine.textContent = s === null ? '' : names === null ? tr('election.none') : tr('election.line', names);
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
  /**
   * Gives a command. One that cannot be undone is sent without the yes first: the station says whether it
   * would do it (a refusal is shown at once, with no pointless question), and asks; the yes sends it again.
   * @param {StationCommand} command
   * @param {boolean} [confirm]
   */
  async function runCommand(command, confirm = false) {
    const r = await api.command(confirm ? { command, confirm: true } : { command });
    if (!r.ok && r.error.code === 'confirmation-required' && CONFIRMED.has(command) && !confirm) {
      local.staffConfirming = command;
      ui.staffResult.textContent = '';
      render();
      ui.staffConfirmNo.focus();
      return;
    }
    const text = r.ok ? [tr('cmd.done', { message: r.value.message }), r.value.file ? tr('cmd.file', { file: r.value.file }) : ''].filter(Boolean).join(' ') : tr('error.refused', { message: r.error.message });
    // The outcome is shown with the state it made, in one step: text and focus never run ahead of the screen.
    if (r.ok) await refresh();
    ui.staffResult.textContent = text;
    ui.staffResult.dataset['ok'] = String(r.ok);
    // The pressed button may have gone (polls opened): keep keyboard users on the outcome, not on <body>.
    const active = doc.activeElement;
    if (active === null || active === doc.body || (active instanceof HTMLElement && active.closest('[hidden]') !== null)) ui.staffResult.focus();
  }

  // Bumped by every status the event stream brings: a status fetched while one arrived is older than it.
  let streamStatuses = 0;

  async function refresh() {
    const seen = streamStatuses;
    try {
      const status = await api.status();
      // the answer left the station before the stream's newer status arrived: keep the newer one
      if (streamStatuses === seen) local.status = status;
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
    local.staffConfirming = null;
    resetVoterChoices();
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
      // a lock-out's refusal says how long the role's sign-in stays locked
      ui.loginError.textContent = tr('error.refused', { message: r.error.message });
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
  /**
   * A yes/no question (the voter's cast-as-is, the staff's irreversible commands): Tab stays inside it while it
   * is open, and Escape answers "no".
   * @param {HTMLElement} dialog @param {HTMLElement} no @param {HTMLElement} yes
   */
  function keepFocusInQuestion(dialog, no, yes) {
    dialog.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        no.click();
      } else if (ev.key === 'Tab') {
        if (ev.shiftKey && doc.activeElement === no) {
          ev.preventDefault();
          yes.focus();
        } else if (!ev.shiftKey && doc.activeElement === yes) {
          ev.preventDefault();
          no.focus();
        }
      }
    });
  }
  keepFocusInQuestion(ui.confirm, ui.confirmNo, ui.confirmYes);

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

  ui.staffConfirmNo.addEventListener('click', () => {
    const c = local.staffConfirming;
    local.staffConfirming = null;
    render();
    /** @type {HTMLElement | null} */ (c === null ? null : ui.commands.querySelector(`button[data-command="${c}"]`))?.focus();
  });
  ui.staffConfirmYes.addEventListener('click', () => {
    const c = local.staffConfirming;
    if (c === null) return;
    local.staffConfirming = null;
    render();
    void runCommand(c, true);
  });
  keepFocusInQuestion(ui.staffConfirm, ui.staffConfirmNo, ui.staffConfirmYes);

  // ---- station events
  api.subscribe((e) => {
    switch (e.type) {
      case 'status':
        streamStatuses += 1;
        local.status = e.status;
        local.connectionLost = false;
        break;
      case 'sheet':
        if (local.status !== null) local.status = { ...local.status, sheet: e.feedback };
        break;
      case 'cue': {
        // A sheet given back while the feeder is stopped (the streaked sheet, a double feed) sounds the alarm:
        // the voter is to wait for a poll worker, not to take the ballot and feed it again.
        const cue = e.cue !== 'counted' && local.status !== null && waitsForPollWorker(local.status) ? 'alarm' : e.cue;
        playCue(cue);
        ui.body.dataset['flash'] = cue;
        setTimeout(() => {
          if (ui.body.dataset['flash'] === cue) delete ui.body.dataset['flash'];
        }, 600);
        return;
      }
      case 'alarm':
        break;
    }
    const before = ui.voterTitle.textContent;
    render();
    // Voters who cannot see the screen hear each new outcome once.
    if (local.screen === 'voter' && ui.voterTitle.textContent !== before) announce(ui.voterTitle.textContent ?? '');
  });

  // the walk-away voter: choices made, no ballot fed (a sheet on screen or staff at the screen hold it off)
  watchVoterIdle({
    doc,
    idleMs: options.voterIdleMs ?? DEFAULT_VOTER_IDLE_SECONDS * 1000,
    busy: () => local.screen !== 'voter' || (local.status !== null && voterSheet(local.status) !== null),
    changed: () => local.size !== TEXT_SIZES[0] || local.lang !== LANGUAGES[0].code,
    reset: resetVoterChoices,
  });

  renderLanguageButtons();
  renderSizeButtons();
  render();
  void refresh();
}
