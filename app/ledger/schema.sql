-- Tallyproof station ledger, schema version 1.
-- `entries` is the record: an append-only hash chain, and the only table a ballot append writes (ballot
-- states are rebuilt in memory from it at open). `leaves` and `checkpoints` are written when a batch closes,
-- for building proofs; `ledger verify` re-derives both from the entries and never trusts them.
PRAGMA user_version = 1;

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE entries (
  seq        INTEGER PRIMARY KEY CHECK (seq >= 1),
  kind       INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 255),
  payload    BLOB NOT NULL,
  prev_hash  BLOB NOT NULL CHECK (length(prev_hash) = 32),
  entry_hash BLOB NOT NULL CHECK (length(entry_hash) = 32)
) STRICT;

-- Defence in depth only: anyone with the file can drop these; `ledger verify` is what detects tampering.
CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;

-- Every closed batch's leaves, in tree order (batch by batch, each batch ordered by leaf hash).
CREATE TABLE leaves (
  leaf_index INTEGER PRIMARY KEY CHECK (leaf_index >= 0),
  batch      INTEGER NOT NULL,
  cast_seq   INTEGER NOT NULL,
  leaf_hash  BLOB NOT NULL CHECK (length(leaf_hash) = 32)
) STRICT;

CREATE TABLE checkpoints (
  batch     INTEGER PRIMARY KEY CHECK (batch >= 1),
  seq       INTEGER NOT NULL,
  body      TEXT NOT NULL,
  signature BLOB NOT NULL CHECK (length(signature) = 64)
) STRICT;
