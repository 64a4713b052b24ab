import type { SheetReading } from '../../ballots/read/sheet';
import type { SheetOutcome } from '../../firmware-bridge/lifecycle';
import type { AppendRefusal } from '../../app/ledger/ledger';
import { feedbackReason } from '../../app/station/policy';
import type { Move, SheetEffect, SheetEvent, SheetRefusal, SheetState, SheetStep } from '../../app/station/sheet-state';
import { advance, unseen } from '../../app/station/sheet-state';

const ID = 'S-0001';
const IMAGES = [new Uint8Array([1, 2, 3])];
const READING: SheetReading = { status: 'accepted', reasons: [], ballotId: 'b-123', contests: {}, marks: [] };
const OVERVOTE = [feedbackReason('overvote', ['mayor'])];

function move(state: SheetState, event: SheetEvent): Move {
  const r = advance(state, event);
  if (!r.ok) throw new Error(`refused: ${r.error.message}`);
  return r.value;
}

function refusal(state: SheetState, event: SheetEvent): SheetRefusal {
  const r = advance(state, event);
  if (r.ok) throw new Error(`${event.type} was taken from ${state.step.kind}`);
  return r.error;
}

/** Follows a list of events from a new sheet, each one taken. */
function walk(...events: SheetEvent[]): Move {
  let m: Move = { state: unseen(ID), effects: [] };
  for (const e of events) m = move(m.state, e);
  return m;
}

const types = (m: Move): string[] => m.effects.map((e) => e.type);
const of = <T extends SheetEffect['type']>(m: Move, type: T): Extract<SheetEffect, { type: T }>[] => m.effects.filter((e): e is Extract<SheetEffect, { type: T }> => e.type === type);

const scanned: SheetEvent = { type: 'scanned', mode: 'official', images: IMAGES, refusal: null };
const accepted: SheetEvent = { type: 'read', sheet: READING, decision: { kind: 'accept' }, votingId: 'v-1', streakAlarm: false };
const held: SheetEvent = { type: 'read', sheet: { ...READING, status: 'returned', reasons: ['overvote'] }, decision: { kind: 'hold', reasons: OVERVOTE }, votingId: 'v-1', streakAlarm: false };
const recorded: SheetEvent = { type: 'pending-recorded', pendingSeq: 7, ballotId: 'B-123' };
const dropTaken: SheetEvent = { type: 'drop-answer', error: null };
const dropPutOff: SheetEvent = { type: 'drop-answer', error: { kind: 'refused', command: 'accept', reason: 'cover-open' } };
const done = (outcome: SheetOutcome): SheetEvent => ({ type: 'done', outcome });
const inBox = done({ kind: 'box' });

describe('the station’s sheet state: legal moves', () => {
  it('scanned → reading: the images are read', () => {
    const m = walk(scanned);
    expect(m.state.step).toEqual({ kind: 'reading', mode: 'official', images: IMAGES });
    expect(m.effects).toEqual([{ type: 'read', sheetId: ID, mode: 'official', images: IMAGES }]);
  });

  it('scanned while no ballots are taken: rejected unread, not counted', () => {
    const m = walk({ ...scanned, refusal: 'The polls are paused.' });
    expect(m.state.step).toEqual({ kind: 'settled', how: 'rejected' });
    expect(types(m)).toEqual(['show', 'return-sheet']);
    expect(of(m, 'show')[0]?.feedback.reasons[0]?.code).toBe('not-accepting');
  });

  it('a reading that fails: rejected and counted, with an audit event', () => {
    const m = walk(scanned, { type: 'read-failed', message: 'worker died' });
    expect(m.state.step).toEqual({ kind: 'settled', how: 'rejected' });
    expect(types(m)).toEqual(['audit', 'count', 'show', 'return-sheet']);
    expect(of(m, 'audit')[0]?.detail).toEqual({ reason: 'read-failed' });
  });

  it('a reading the policy rejects: one audit event with the reader’s reasons, then counted and given back', () => {
    const m = walk(scanned, { type: 'read', sheet: { status: 'rejected', reasons: ['blank-page'], contests: {}, marks: [] }, decision: { kind: 'reject', reasons: [feedbackReason('blank-page')] }, votingId: '', streakAlarm: false });
    expect(types(m)).toEqual(['audit', 'count', 'show', 'return-sheet']);
    expect(of(m, 'audit')).toEqual([{ type: 'audit', event: 'ballot-rejected', detail: { reason: 'blank-page' } }]);
  });

  it('the streaked sheet that completes a run raises the alarm and stops the feeder before it goes back', () => {
    const m = walk(scanned, { type: 'read', sheet: { status: 'rejected', reasons: ['scanner-streaks'], contests: {}, marks: [] }, decision: { kind: 'reject', reasons: [feedbackReason('scanner-streaks')] }, votingId: '', streakAlarm: true });
    expect(types(m)).toEqual(['raise-alarm', 'update-feeding', 'audit', 'count', 'show', 'return-sheet']);
  });

  it('accepted → recording: the pending entry (after its journal line) is the only effect', () => {
    const m = walk(scanned, accepted);
    expect(m.state.step.kind).toBe('recording');
    expect(m.effects).toEqual([{ type: 'record-pending', held: { sheetId: ID, mode: 'official', sheet: READING, votingId: 'v-1', images: IMAGES, reasons: [] }, ballotId: 'b-123', castAsIs: false }]);
  });

  it('a reading without a ballot ID is never recorded', () => {
    const m = walk(scanned, { ...accepted, sheet: { status: 'accepted', reasons: [], contests: {}, marks: [] } });
    expect(m.state.step).toEqual({ kind: 'settled', how: 'rejected' });
    expect(types(m)).not.toContain('record-pending');
  });

  it('held → awaiting-voter: the screens offer cast-as-is; nothing is written', () => {
    const m = walk(scanned, held);
    expect(m.state.step.kind).toBe('awaiting-voter');
    expect(m.effects).toEqual([{ type: 'show', feedback: { sheetId: ID, outcome: 'awaiting-voter', reasons: OVERVOTE, canCastAsIs: true }, cue: 'returned' }]);
  });

  it('the voter casts as is: recorded with castAsIs true', () => {
    const m = walk(scanned, held, { type: 'voter-decision', decision: 'cast-as-is' });
    expect(m.state.step).toMatchObject({ kind: 'recording', castAsIs: true });
    expect(of(m, 'record-pending')[0]?.castAsIs).toBe(true);
  });

  it('the voter takes it back: logged and counted as returned, no ledger entry', () => {
    const m = walk(scanned, held, { type: 'voter-decision', decision: 'return' });
    expect(m.state.step).toEqual({ kind: 'settled', how: 'returned' });
    expect(types(m)).toEqual(['audit', 'count', 'show', 'return-sheet']);
    expect(of(m, 'audit')[0]).toEqual({ type: 'audit', event: 'ballot-returned', detail: { reason: 'voter-returned', warning: 'overvote' } });
    expect(of(m, 'count')[0]?.counter).toBe('returned');
  });

  it('the polls stop while the voter decides: given back, not counted', () => {
    const m = walk(scanned, held, { type: 'polls-stopped', polls: 'paused' });
    expect(m.state.step).toEqual({ kind: 'settled', how: 'returned' });
    expect(types(m)).toEqual(['show', 'return-sheet']);
    expect(of(m, 'show')[0]?.feedback.reasons[0]?.pollWorker).toContain('The polls are paused.');
  });

  it('recorded → dropping: the scanner is asked to drop it', () => {
    const m = walk(scanned, accepted, recorded);
    expect(m.state.step).toEqual({ kind: 'dropping', flight: { sheetId: ID, mode: 'official', pendingSeq: 7, ballotId: 'B-123', castAsIs: false }, deferred: false });
    expect(m.effects).toEqual([{ type: 'ask-drop', sheetId: ID }]);
  });

  it('a drop put off (cover open) waits, says so once, and is asked again on retry', () => {
    const m = walk(scanned, accepted, recorded, dropPutOff);
    expect(m.state.step).toMatchObject({ kind: 'dropping', deferred: true });
    expect(types(m)).toEqual(['log', 'show']);
    expect(of(m, 'show')[0]).toMatchObject({ feedback: { outcome: 'dropping' }, unlessShown: true });
    expect(move(m.state, { type: 'retry-drop' }).effects).toEqual([{ type: 'ask-drop', sheetId: ID }]);
    expect(move(m.state, dropTaken).state.step).toMatchObject({ kind: 'dropping', deferred: false });
  });

  it('a drop refused for good (box full): the entry is marked returned and the ballot given back, counted', () => {
    const m = walk(scanned, accepted, recorded, { type: 'drop-answer', error: { kind: 'refused', command: 'accept', reason: 'box-full' } });
    expect(m.state.step).toEqual({ kind: 'settled', how: 'returned' });
    expect(types(m)).toEqual(['mark-returned', 'count', 'show', 'return-sheet']);
    expect(of(m, 'mark-returned')[0]).toEqual({ type: 'mark-returned', mode: 'official', pendingSeq: 7, reason: 'scanner-refused:box-full' });
  });

  it('in the box → confirming → cast: counted (with its cast-as-is flag) only once the ledger took the cast entry', () => {
    const box = walk(scanned, held, { type: 'voter-decision', decision: 'cast-as-is' }, recorded, dropTaken, inBox);
    expect(box.state.step.kind).toBe('confirming');
    expect(box.effects).toEqual([{ type: 'confirm-cast', mode: 'official', pendingSeq: 7 }]);
    const cast = move(box.state, { type: 'cast-confirmed' });
    expect(cast.state.step).toEqual({ kind: 'settled', how: 'cast' });
    expect(cast.effects[0]).toEqual({ type: 'count-cast', mode: 'official', castAsIs: true });
    expect(of(cast, 'show')[0]).toMatchObject({ feedback: { outcome: 'counted' }, cue: 'counted' });
  });

  it('the ledger refuses the cast entry: logged, nothing counted', () => {
    const m = walk(scanned, accepted, recorded, dropTaken, inBox, { type: 'cast-refused', detail: 'entry 7 is not pending' });
    expect(m.state.step).toEqual({ kind: 'settled', how: 'cast-refused' });
    expect(types(m)).toEqual(['log']);
  });

  it('the scanner gives a recorded ballot back: marked returned, counted as returned', () => {
    const m = walk(scanned, accepted, recorded, dropTaken, done({ kind: 'returned', reason: 'scan-lost' }));
    expect(types(m)).toEqual(['mark-returned', 'count', 'show']);
    expect(of(m, 'mark-returned')[0]?.reason).toBe('scanner-returned:scan-lost');
  });

  it('the scanner stops with the ballot in its path (power loss): not counted but counted as returned, the poll worker is told, the feeder rethinks', () => {
    const m = walk(scanned, accepted, recorded, dropTaken, done({ kind: 'flagged', reason: 'power-loss', stage: 'accepting' }));
    expect(m.state.step).toEqual({ kind: 'settled', how: 'not-counted' });
    expect(types(m)).toEqual(['mark-returned', 'count', 'attention', 'show', 'update-feeding']);
    expect(of(m, 'count')[0]?.counter).toBe('returned');
    expect(of(m, 'attention')[0]?.text).toContain('Ballot B-123 was not counted');
  });

  it('a held sheet the scanner gives back on its own is forgotten (no ballot, no count)', () => {
    const m = walk(scanned, held, done({ kind: 'returned', reason: 'scan-lost' }));
    expect(m.state.step).toEqual({ kind: 'unseen' });
    expect(types(m)).toEqual(['show']);
  });

  it('paper the station never read comes back (double sheet): logged and counted as returned', () => {
    const m = walk(done({ kind: 'returned', reason: 'double-sheet' }));
    expect(m.state.step).toEqual({ kind: 'settled', how: 'returned' });
    expect(of(m, 'audit')[0]?.detail).toEqual({ reason: 'double-sheet' });
    expect(of(m, 'show')[0]?.feedback.reasons[0]?.code).toBe('double-sheet');
  });

  it('a jam named a sheet: its last word clears the jam and the feeder is asked again, after the sheet’s own effects', () => {
    const jam = walk({ type: 'jammed' });
    expect(jam.state).toEqual({ sheetId: ID, step: { kind: 'unseen' }, jammed: true });
    const after = move(jam.state, done({ kind: 'flagged', reason: 'jam', stage: 'feeding' }));
    expect(after.state.jammed).toBe(false);
    expect(types(after)).toEqual(['update-feeding']);
    const flight = walk(scanned, accepted, recorded, dropTaken, { type: 'jammed' }, inBox);
    expect(flight.state.jammed).toBe(false);
    expect(types(flight)).toEqual(['confirm-cast', 'update-feeding']);
  });

  it('a settled sheet’s last word changes nothing; a restart may settle an unseen sheet', () => {
    const settled = walk(scanned, { type: 'read-failed', message: 'x' });
    expect(move(settled.state, inBox).effects).toEqual([]);
    expect(walk({ type: 'reconciled' }).state.step).toEqual({ kind: 'settled', how: 'reconciled' });
    expect(move(settled.state, { type: 'reconciled' }).state.step).toEqual({ kind: 'settled', how: 'rejected' });
  });

  it.each<[AppendRefusal['kind'] | 'capture', SheetEvent, string, string]>([
    ['duplicate', { type: 'pending-refused', refusal: { kind: 'duplicate', ballotId: 'B-123', firstSeq: 4, firstPendingSeq: 3 } }, 'duplicate', 'audit,count,show,return-sheet'],
    ['already-pending', { type: 'pending-refused', refusal: { kind: 'already-pending', ballotId: 'B-123', pendingSeq: 5 } }, 'duplicate', 'audit,count,show,return-sheet'],
    ['wrong-mode', { type: 'pending-refused', refusal: { kind: 'wrong-mode', ledgerMode: 'official', ballotMode: 'test' } }, 'record-refused', 'audit,count,show,return-sheet'],
    ['invalid', { type: 'pending-refused', refusal: { kind: 'invalid', detail: 'bad' } }, 'record-refused', 'audit,count,show,return-sheet'],
    ['capture', { type: 'pending-refused', refusal: { kind: 'capture', message: 'no such contest' } }, 'record-refused', 'audit,count,show,return-sheet'],
    ['unreconciled', { type: 'pending-refused', refusal: { kind: 'unreconciled', pendingSeqs: [2] } }, 'not-accepting', 'show,return-sheet'],
    ['polls-not-open', { type: 'pending-refused', refusal: { kind: 'polls-not-open', polls: 'paused' } }, 'not-accepting', 'show,return-sheet'],
  ])('the ledger refuses the pending entry (%s): given back, reason %s, effects %s', (_kind, event, code, effects) => {
    const m = walk(scanned, accepted, event);
    expect(m.state.step).toEqual({ kind: 'settled', how: 'rejected' });
    expect(of(m, 'show')[0]?.feedback.reasons[0]?.code).toBe(code);
    expect(types(m).join(',')).toBe(effects);
  });

  it('a duplicate’s one audit event names the entry that counted it first', () => {
    const m = walk(scanned, accepted, { type: 'pending-refused', refusal: { kind: 'duplicate', ballotId: 'B-123', firstSeq: 4, firstPendingSeq: 3 } });
    expect(of(m, 'audit')).toEqual([{ type: 'audit', event: 'ballot-rejected', detail: { reason: 'duplicate', firstSeq: 4 } }]);
  });
});

describe('the station’s sheet state: illegal moves are refused, with the reason', () => {
  const states: Record<string, SheetState> = {
    unseen: unseen(ID),
    reading: walk(scanned).state,
    'awaiting-voter': walk(scanned, held).state,
    recording: walk(scanned, accepted).state,
    dropping: walk(scanned, accepted, recorded).state,
    confirming: walk(scanned, accepted, recorded, dropTaken, inBox).state,
    settled: walk(scanned, accepted, recorded, dropTaken, inBox, { type: 'cast-confirmed' }).state,
  };
  const legal: Record<SheetEvent['type'], readonly SheetStep['kind'][]> = {
    jammed: ['unseen', 'reading', 'awaiting-voter', 'recording', 'dropping', 'confirming', 'settled'],
    scanned: ['unseen'],
    read: ['reading'],
    'read-failed': ['reading'],
    'voter-decision': ['awaiting-voter'],
    'polls-stopped': ['awaiting-voter'],
    'pending-recorded': ['recording'],
    'pending-refused': ['recording'],
    'drop-answer': ['dropping'],
    'retry-drop': [],
    done: ['unseen', 'awaiting-voter', 'dropping', 'settled'],
    'cast-confirmed': ['confirming'],
    'cast-refused': ['confirming'],
    reconciled: ['unseen', 'settled'],
  };
  const events: SheetEvent[] = [
    { type: 'jammed' },
    scanned,
    accepted,
    { type: 'read-failed', message: 'x' },
    { type: 'voter-decision', decision: 'cast-as-is' },
    { type: 'polls-stopped', polls: 'closed' },
    recorded,
    { type: 'pending-refused', refusal: { kind: 'invalid', detail: 'x' } },
    dropTaken,
    { type: 'retry-drop' },
    inBox,
    { type: 'cast-confirmed' },
    { type: 'cast-refused', detail: 'x' },
    { type: 'reconciled' },
  ];
  const cases = Object.entries(states).flatMap(([name, state]) => events.map((e) => [name, e.type, state, e] as const));

  it.each(cases)('%s + %s: taken only where legal', (name, type, state, event) => {
    const r = advance(state, event);
    expect(r.ok).toBe(legal[type].includes(name as SheetStep['kind']));
    if (!r.ok) {
      expect(r.error).toMatchObject({ sheetId: ID, from: name, event: type });
      expect(r.error.message).toMatch(new RegExp(`^sheet ${ID} is .+: .+`));
    }
  });

  it('a voter decision for a sheet no longer waiting (already recorded, or already cast) is refused', () => {
    const dropping = walk(scanned, held, { type: 'voter-decision', decision: 'cast-as-is' }, recorded).state;
    expect(refusal(dropping, { type: 'voter-decision', decision: 'cast-as-is' })).toMatchObject({ code: 'not-waiting', message: expect.stringContaining('dropping into the box') });
    expect(refusal(states['settled'] as SheetState, { type: 'voter-decision', decision: 'return' }).code).toBe('not-waiting');
  });

  it('a second cast of the same sheet is refused: the scanner’s re-report is not read, a second cast entry not written', () => {
    const cast = states['settled'] as SheetState;
    expect(refusal(cast, scanned)).toMatchObject({ code: 'already-seen', message: expect.stringContaining('settled (cast)') });
    expect(refusal(cast, { type: 'cast-confirmed' }).code).toBe('out-of-order');
    expect(refusal(states['dropping'] as SheetState, recorded).code).toBe('out-of-order');
  });

  it('a decision after a power loss is refused: the restarted station knows the sheet only as reconciled', () => {
    const flagged = walk(scanned, held, { type: 'voter-decision', decision: 'cast-as-is' }, recorded, dropTaken, done({ kind: 'flagged', reason: 'power-loss', stage: 'accepting' })).state;
    expect(refusal(flagged, { type: 'voter-decision', decision: 'cast-as-is' })).toMatchObject({ code: 'not-waiting', message: expect.stringContaining('settled (not-counted)') });
    expect(refusal(walk({ type: 'reconciled' }).state, { type: 'voter-decision', decision: 'return' }).code).toBe('not-waiting');
    expect(refusal(unseen(ID), { type: 'voter-decision', decision: 'cast-as-is' }).message).toBe(`sheet ${ID} is not known to the station: only a sheet waiting for the voter takes their decision`);
  });

  it('a retry of a drop the scanner never put off is refused (no second drop command)', () => {
    expect(refusal(states['dropping'] as SheetState, { type: 'retry-drop' }).code).toBe('out-of-order');
  });

  it('the scanner cannot finish a sheet the station is still reading or recording', () => {
    for (const name of ['reading', 'recording', 'confirming']) expect(refusal(states[name] as SheetState, inBox).code).toBe('out-of-order');
  });
});
