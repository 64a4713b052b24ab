// Cold start of the reader as a station process sees it: a fresh Node, the built modules, the QR decoder's
// WASM, one page read. Prints milliseconds since the process began.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const dist = path.join(__dirname, '..', '..', '..', 'dist');
const { loadElection } = require(path.join(dist, 'ballots/election'));
const { loadElectionPublicKeys } = require(path.join(dist, 'ballots/identity'));
const { BallotReader } = require(path.join(dist, 'ballots/read/interpret'));
const { DEFAULT_PROFILE } = require(path.join(dist, 'calibration/profile'));
const [electionFile, keysFile, image] = process.argv.slice(2);
const election = loadElection(electionFile);
const keys = loadElectionPublicKeys(keysFile);
const reader = new BallotReader({ election: election.value, publicKeys: keys.value, profile: DEFAULT_PROFILE, station: { mode: 'official' } });
reader.readFile(fs.readFileSync(image)).then((r) => {
  process.stdout.write(JSON.stringify({ ms: Math.round(process.uptime() * 1000), status: r.status }));
});
