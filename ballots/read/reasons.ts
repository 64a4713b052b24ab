/** Why a page is returned or rejected: machine-readable codes, each with a sentence for people. */
export const REJECT_REASONS = [
  'unreadable-image',
  'image-too-large',
  'image-too-small',
  'blank-page',
  'not-a-ballot',
  'unalignable',
  'mis-scaled',
  'scanner-streaks',
  'unreadable-codes',
  'codes-disagree',
  'side-missing',
  'counterfeit',
  'wrong-election',
  'wrong-network',
  'wrong-precinct',
  'unknown-precinct',
  'unknown-style',
  'test-ballot-in-official-mode',
  'official-ballot-in-test-mode',
] as const;
export const RETURN_REASONS = ['overvote', 'blank-ballot', 'undervote', 'marginal-marks'] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];
export type ReturnReason = (typeof RETURN_REASONS)[number];
export type Reason = RejectReason | ReturnReason;

/** What the voter reads on the screen, and what the poll worker reads beside it. */
export const REASON_TEXT: Readonly<Record<Reason, { readonly voter: string; readonly pollWorker: string }>> = {
  'unreadable-image': { voter: 'The scanner could not read this sheet. Please ask a poll worker.', pollWorker: 'The scan could not be decoded; rescan the sheet.' },
  'image-too-large': { voter: 'The scanner could not read this sheet. Please ask a poll worker.', pollWorker: 'The scan is larger than any ballot page; check the scanner settings.' },
  'image-too-small': { voter: 'The scanner could not read this sheet. Please ask a poll worker.', pollWorker: 'The scan resolution is too low to read marks; check the scanner settings (150–300 dpi).' },
  'blank-page': {
    voter: 'The scanner found no printing on this sheet. If it is your ballot, turn it over and feed it again.',
    pollWorker: 'No printing at all on the sheet: a blank page, or a one-sided ballot fed face down on a scanner that reads one side.',
  },
  'not-a-ballot': { voter: 'This does not look like a ballot.', pollWorker: 'No ballot printing found: a blank page or another document.' },
  unalignable: { voter: 'The scanner could not line this ballot up. Please try again or ask a poll worker.', pollWorker: 'The corner marks could not be found: the sheet may be folded, torn or fed crooked. Rescan it.' },
  'mis-scaled': { voter: 'This ballot was printed at the wrong size. Please ask a poll worker.', pollWorker: 'The ballot was printed outside 97–103 % of its size; it cannot be read safely. Issue a correctly printed ballot.' },
  'scanner-streaks': { voter: 'The scanner needs cleaning. Please ask a poll worker.', pollWorker: 'A vertical streak runs down the scan: clean the scanner glass and rescan the sheet.' },
  'unreadable-codes': { voter: 'The codes at the bottom of this ballot could not be read. Please ask a poll worker.', pollWorker: 'One or more of the three QR codes did not decode; check for damage and rescan.' },
  'codes-disagree': { voter: 'This ballot’s codes do not match each other. Please ask a poll worker.', pollWorker: 'The address, ballot ID and voting ID do not belong together.' },
  'side-missing': {
    voter: 'The scanner could not read both sides of this ballot. Please feed it again or ask a poll worker.',
    pollWorker: 'This ballot is printed on two sides but one side came through blank or not at all: check that the scanner reads both sides (duplex), then feed it again.',
  },
  counterfeit: { voter: 'This ballot was not issued for this election. Please ask a poll worker.', pollWorker: 'The ballot ID’s signature does not verify: possible counterfeit. Keep the sheet apart.' },
  'wrong-election': { voter: 'This ballot is for a different election.', pollWorker: 'The voting ID names another election.' },
  'wrong-network': { voter: 'This ballot’s codes do not match each other. Please ask a poll worker.', pollWorker: 'The ballot address is for another blockchain network.' },
  'wrong-precinct': { voter: 'This ballot is for a different precinct.', pollWorker: 'The voting ID names another precinct than this station’s.' },
  'unknown-precinct': { voter: 'This ballot is for a different precinct.', pollWorker: 'The voting ID names a precinct this election does not have.' },
  'unknown-style': { voter: 'This ballot is not valid in this precinct.', pollWorker: 'The ballot style is not used in this precinct.' },
  'test-ballot-in-official-mode': { voter: 'This is a test ballot and cannot be counted.', pollWorker: 'A test ballot was fed while the polls are open for official ballots.' },
  'official-ballot-in-test-mode': { voter: 'The station is in test mode.', pollWorker: 'An official ballot was fed during logic-and-accuracy testing; keep it apart.' },
  overvote: { voter: 'You marked too many choices in a contest. You may get a new ballot or cast this one as it is; those contests will not count.', pollWorker: 'Overvote: the voter may fix the ballot or cast it as is.' },
  'blank-ballot': { voter: 'No marks were found on this ballot. You may get a new ballot or cast this one as it is.', pollWorker: 'Blank ballot: the voter may mark it or cast it as is.' },
  undervote: { voter: 'You marked fewer choices than allowed in some contests. You may go back or cast the ballot as it is.', pollWorker: 'Undervote notice (station setting).' },
  'marginal-marks': { voter: 'Some marks are too light or too small to read for sure. You may fix them or cast the ballot as it is.', pollWorker: 'Marginal marks: the voter should fill the ovals completely or cast as is; the marks are recorded for review.' },
};
