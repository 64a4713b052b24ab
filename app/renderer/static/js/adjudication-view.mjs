// @ts-check
/**
 * The auditor's adjudication screen (after the polls close): each marginal mark or marked write-in with the
 * clip of the ballot's scan, and the decision buttons. The station checks every decision and records it as a
 * signed ledger entry; this view only asks and shows. Text is set with textContent only.
 */

/** @typedef {import('../../../preload/kiosk-api').KioskApi} KioskApi */
/** @typedef {import('../../../station/api').StationStatus} StationStatus */
/** @typedef {import('../../../station/api').AdjudicationItemView} AdjudicationItemView */
/** @typedef {import('../../../station/api').AdjudicateArgs} AdjudicateArgs */
/** @typedef {import('./strings.mjs').StringKey} StringKey */

/**
 * @param {KioskApi} api
 * @param {Document} doc
 * @param {HTMLElement} root the section the view fills
 * @param {(key: StringKey, vars?: Record<string, string | number>) => string} tr
 * @param {(message: string) => void} said where a result or refusal is shown and announced
 */
export function adjudicationView(api, doc, root, tr, said) {
  const heading = doc.createElement('h3');
  heading.id = 'adjudication-title';
  const load = doc.createElement('button');
  load.type = 'button';
  load.id = 'btn-adjudication-load';
  const summary = doc.createElement('p');
  summary.className = 'adjudication-summary';
  const list = doc.createElement('ol');
  list.className = 'adjudication-items';
  root.replaceChildren(heading, load, summary, list);
  /** @type {{ shown: boolean, loaded: boolean, busy: boolean, titles: Readonly<Record<string, string>> }} */
  const local = { shown: false, loaded: false, busy: false, titles: {} };

  /** @param {string} text @param {() => void} onClick @param {string} [className] */
  const button = (text, onClick, className) => {
    const b = doc.createElement('button');
    b.type = 'button';
    b.textContent = text;
    if (className !== undefined) b.className = className;
    b.addEventListener('click', onClick);
    return b;
  };

  /** @param {AdjudicationItemView} item @param {Omit<AdjudicateArgs, 'ballotId' | 'contest' | 'option'>} d */
  async function decide(item, d) {
    if (local.busy) return;
    local.busy = true;
    try {
      const r = await api.adjudicate({ ballotId: item.ballotId, contest: item.contest, option: item.option, ...d });
      said(r.ok ? r.value.message : r.error.message);
      if (r.ok) await refresh();
    } finally {
      local.busy = false;
    }
  }

  /** @param {AdjudicationItemView} item */
  function itemNode(item) {
    const li = doc.createElement('li');
    li.className = 'adjudication-item';
    li.dataset['ballot'] = item.ballotId;
    li.dataset['contest'] = item.contest;
    li.dataset['option'] = item.option ?? '*';
    const contestTitle = local.titles[item.contest] ?? item.contest;
    const option = item.options.find((o) => o.id === item.option);
    const title = doc.createElement('h4');
    title.textContent = tr('adjudication.item', { id: item.ballotId, contest: contestTitle });
    const what = doc.createElement('p');
    what.className = 'what';
    what.textContent = tr(/** @type {StringKey} */ (`adjudication.kind.${item.kind}`), { option: option?.label ?? item.option ?? '' });
    const counted = doc.createElement('p');
    const countedLabels = item.options.filter((o) => o.counted).map((o) => o.label);
    counted.textContent = tr('adjudication.counted', { options: countedLabels.length === 0 ? tr('adjudication.countedNone') : countedLabels.join(', ') });
    li.append(title, what, counted);
    if ('dataUrl' in item.clip) {
      const img = doc.createElement('img');
      img.className = 'clip';
      img.src = item.clip.dataUrl;
      img.alt = tr('adjudication.clipAlt', { id: item.ballotId, contest: contestTitle });
      li.append(img);
    } else {
      const p = doc.createElement('p');
      p.className = 'no-clip';
      p.textContent = tr('adjudication.noClip', { why: item.clip.why });
      li.append(p);
    }
    if (item.decision !== undefined) {
      const p = doc.createElement('p');
      p.className = 'decided';
      p.textContent = tr('adjudication.decided', { text: item.decision.text, entry: item.decision.entry });
      li.append(p);
      return li;
    }
    const choices = doc.createElement('div');
    choices.className = 'choices';
    if (item.kind === 'marginal') {
      choices.append(button(tr('adjudication.counts'), () => void decide(item, { decision: 'counts' }), 'counts'), button(tr('adjudication.notCounted'), () => void decide(item, { decision: 'not-counted' }), 'not-counted'));
    } else if (item.kind === 'write-in') {
      const label = doc.createElement('label');
      label.textContent = tr('adjudication.name');
      const input = doc.createElement('input');
      input.type = 'text';
      input.className = 'write-in-name';
      input.maxLength = 64;
      input.autocomplete = 'off';
      label.append(input);
      choices.append(label, button(tr('adjudication.recordName'), () => void decide(item, { decision: 'write-in', name: input.value }), 'record-name'), button(tr('adjudication.noVote'), () => void decide(item, { decision: 'no-vote' }), 'no-vote'));
    } else {
      // the station did not record which option: the auditor, with the paper, ticks the ones whose marks count
      const boxes = item.options
        .filter((o) => !o.counted && !o.writeIn)
        .map((o) => {
          const label = doc.createElement('label');
          const box = doc.createElement('input');
          box.type = 'checkbox';
          box.value = o.id;
          label.append(box, doc.createTextNode(` ${o.label}`));
          return { label, box };
        });
      choices.append(
        ...boxes.map((b) => b.label),
        button(tr('adjudication.marks'), () => void decide(item, { decision: 'marks', marks: boxes.filter((b) => b.box.checked).map((b) => b.box.value) }), 'record-marks'),
      );
    }
    li.append(choices);
    return li;
  }

  async function refresh() {
    const r = await api.adjudicationList({ all: true });
    if (!r.ok) {
      said(r.error.message);
      return;
    }
    local.loaded = true;
    summary.textContent = r.value.items.length === 0 ? tr('adjudication.none') : tr('adjudication.count', { undecided: r.value.undecided, decided: r.value.decided });
    list.replaceChildren(...r.value.items.map(itemNode));
  }

  load.addEventListener('click', () => void refresh());

  return {
    /** Shown to an auditor or captain once the polls closed; the list loads when asked. @param {StationStatus | null} s */
    render(s) {
      const role = s?.role ?? null;
      const shown = s !== null && (role === 'auditor' || role === 'captain') && (s.polls === 'closed' || s.polls === 'published');
      root.hidden = !shown;
      local.titles = s?.election?.contestTitles ?? {};
      heading.textContent = tr('adjudication.heading');
      load.textContent = tr(local.loaded ? 'adjudication.reload' : 'adjudication.load');
      if (!shown && local.shown) {
        // signed out or polls state changed: nothing of the list stays on screen
        list.replaceChildren();
        summary.textContent = '';
        local.loaded = false;
      }
      local.shown = shown;
    },
  };
}
