/** The station the tests configure: shared by the in-process rig and the child-process station. */
import path from 'node:path';

export const ELECTION = path.join(__dirname, '..', '..', '..', 'ballots', 'examples', 'municipal.json');
export const PRECINCT = 'p-101';
export const PINS = { 'poll-worker': '1111', captain: '2222', auditor: '3333' } as const;
export const PASSPHRASE = 'station passphrase for tests';
