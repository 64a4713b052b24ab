// Jest globalSetup/globalTeardown: every test's temporary directories (and those of the stations, nodes and
// printers the tests start) go under one directory made for the run, removed when the run ends. Tests make
// thousands of them (decks, data directories, keys); left in the system's temporary directory they
// accumulated by the ten thousand, and creating a file in a crowded ext4 directory tree then cost 20 times
// what it does in a fresh one, which a disk benchmark run on the same machine measured.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// short: unix socket paths (the pseudo-terminals' and CUPS's) must stay under 108 bytes
const PREFIX = 'tpt-';

async function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  process.env.TALLYPROOF_TEST_TMP = root;
  // os.tmpdir() reads TMPDIR: the workers Jest starts after this, and their children, inherit it
  process.env.TMPDIR = root;
}

async function teardown() {
  const root = process.env.TALLYPROOF_TEST_TMP;
  if (root === undefined || !path.basename(root).startsWith(PREFIX)) return;
  try {
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  } catch (e) {
    console.error(`tallyproof tests: could not remove ${root}: ${e.message}`);
  }
}

module.exports = { setup, teardown };
