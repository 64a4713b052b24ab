import type { CountyLedger } from './ledger-read';

/** How the station names itself in every county export. */
export const TALLYPROOF_MANUFACTURER = 'Tallyproof';
export const TALLYPROOF_MODEL = 'Tallyproof polling-station scanner';

/**
 * The export's date: the time of the ledger's last audit event (whole seconds, UTC; to the hour while the
 * polls were open, as the station writes them). Taking the date from the ledger, not the clock, makes an
 * export a function of the ledger alone: two exports of the same ledger are the same bytes.
 */
export function exportDate(ledger: CountyLedger): string {
  return ledger.asOf ?? '1970-01-01T00:00:00Z';
}

/** What ties a document to its ledger: station number and key, election hash, the verified head. */
export function reportingDeviceNotes(ledger: CountyLedger): string[] {
  const g = ledger.genesis;
  return [
    `station number ${g.station.number}`,
    `station public key (BIP 340) ${g.station.publicKey}`,
    `election hash ${g.election.hash}`,
    `${g.mode} ledger, verified to entry ${ledger.head.seq} ${ledger.head.hash}${ledger.sealed ? ', sealed at the close of the polls' : ', not sealed (the polls have not closed)'}`,
  ];
}
