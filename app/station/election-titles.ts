import type { ElectionDefinition } from '../../ballots/election';
import type { ElectionTitles } from './api';

/**
 * The election's names in each other language it gives (its `titles` and `names` translations), for the
 * screens a voter reads in the language the voter chose. A name the election does not translate is left out:
 * the screen falls back to the default language's, so a partial translation never shows an ID.
 */
export function titlesByLanguage(def: ElectionDefinition, precinctId: string): Readonly<Record<string, ElectionTitles>> {
  const precinct = def.precincts.find((p) => p.id === precinctId);
  const languages = new Set([...Object.keys(def.election.titles ?? {}), ...Object.keys(precinct?.names ?? {}), ...def.contests.flatMap((c) => Object.keys(c.titles ?? {}))]);
  const out: Record<string, ElectionTitles> = {};
  for (const lang of [...languages].sort()) {
    const title = def.election.titles?.[lang];
    const precinctName = precinct?.names?.[lang];
    const contestTitles: Record<string, string> = {};
    for (const c of def.contests) {
      const t = c.titles?.[lang];
      if (t !== undefined) contestTitles[c.id] = t;
    }
    out[lang] = { ...(title === undefined ? {} : { title }), ...(precinctName === undefined ? {} : { precinctName }), contestTitles };
  }
  return out;
}
