import { validateElection } from '../../ballots/election';
import { titlesByLanguage } from '../../app/station/election-titles';
import { example } from '../support/ballots';

describe("the election's names by language, for the voter's screen", () => {
  it('none for an election without translations: the screens show its default texts', () => {
    expect(titlesByLanguage(example('municipal').definition, 'p-101')).toEqual({});
  });

  it("each language any title names, with only what the election translates, this precinct's name only", () => {
    const raw = JSON.parse(JSON.stringify(example('municipal').definition)) as { election: Record<string, unknown>; contests: Record<string, unknown>[]; precincts: Record<string, unknown>[] };
    raw.election['titles'] = { es: 'Elección Municipal de Springfield' };
    raw.contests[0]!['titles'] = { es: 'Alcaldía', vi: 'Thị trưởng' };
    raw.precincts[0]!['names'] = { es: 'Recinto 101 – Casco Antiguo' };
    raw.precincts[1]!['names'] = { fr: 'Circonscription 102' };
    const v = validateElection(raw);
    if (!v.ok) throw new Error(JSON.stringify(v.error));
    const mayor = v.value.definition.contests[0]!.id;
    expect(titlesByLanguage(v.value.definition, 'p-101')).toEqual({
      es: { title: 'Elección Municipal de Springfield', precinctName: 'Recinto 101 – Casco Antiguo', contestTitles: { [mayor]: 'Alcaldía' } },
      vi: { contestTitles: { [mayor]: 'Thị trưởng' } },
    });
  });
});
