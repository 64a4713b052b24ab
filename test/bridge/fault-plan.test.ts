import { ALL_FAULTS, describeFault, parseFault, parseFaultPlan, randomFaults } from '../../firmware-bridge/simulator/faults';
import { parseScannerConfig } from '../../firmware-bridge/config';

describe('fault plans typed by a person (station --simulate-faults)', () => {
  it('reads back every fault by the name describeFault gives it', () => {
    for (const f of ALL_FAULTS) expect(parseFault(describeFault(f))).toEqual({ ok: true, value: f });
  });

  it('puts each fault on the sheet named, counted from 1, and none elsewhere', () => {
    const p = parseFaultPlan('3=jam@accepting, 7=double-sheet,1=disconnect@image');
    if (!p.ok) throw new Error(p.error);
    const plan = p.value;
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => (plan(i) === undefined ? '-' : describeFault(plan(i)!)))).toEqual(['disconnect@image', '-', 'jam@accepting', '-', '-', '-', 'double-sheet', '-']);
  });

  it('replays a random plan from its seed', () => {
    const p = parseFaultPlan('random:42:0.3');
    if (!p.ok) throw new Error(p.error);
    const same = randomFaults(42, 0.3);
    const seq = Array.from({ length: 200 }, (_, i) => p.value(i));
    expect(seq).toEqual(Array.from({ length: 200 }, (_, i) => same(i)));
    expect(seq.filter((f) => f !== undefined).length).toBeGreaterThan(30);
  });

  it.each([
    ['3=jam', /^sheet 3: "jam" needs a stage: one of jam@feeding, jam@scanning, jam@accepting, jam@returning$/],
    ['3=jam@held', /^sheet 3: "jam@held" needs a stage/],
    ['3=cover-open@lunch', /"cover-open@lunch" needs a stage: one of cover-open@idle/],
    ['3=double-sheet@idle', /"double-sheet@idle": double-sheet takes no stage/],
    ['3=warp', /^sheet 3: "warp" is no fault; the faults are jam@<stage>, cover-open@<stage>, disconnect@<stage>, power-cycle@<stage>, double-sheet, box-full/],
    ['0=box-full', /counted from 1/],
    ['2=box-full,2=garbage', /sheet 2 already has a fault/],
    ['jam@feeding', /write SHEET=FAULT/],
    ['', /write SHEET=FAULT/],
    ['3=jam@feeding,', /write SHEET=FAULT/],
    ['random:1:2', /rate must be between 0 and 1/],
  ])('refuses %j with a reason', (spec, why) => {
    const p = parseFaultPlan(spec);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.error).toMatch(why);
  });

  it('is checked where a scanner config is read', () => {
    expect(parseScannerConfig({ kind: 'simulated', deckDir: 'd', faults: '2=jam@scanning' }).ok).toBe(true);
    const bad = parseScannerConfig({ kind: 'simulated', deckDir: 'd', faults: '2=jam' });
    expect(bad).toEqual({ ok: false, error: expect.stringMatching(/^faults: sheet 2: "jam" needs a stage/) });
  });
});
