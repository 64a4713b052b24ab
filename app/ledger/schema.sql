-- Tallyproof station ledger, schema version 1.
-- `entries` is the record: an append-only hash chain. The other tables are indexes derived from it in the
-- same transactions, for fast duplicate checks and batch building; `ledger verify` never trusts them.
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

-- One row per ballot ID that is pending or cast; a returned ballot's row goes, so it may be fed again.
CREATE TABLE ballots (
  ballot_id   BLOB PRIMARY KEY CHECK (length(ballot_id) = 8),
  state       TEXT NOT NULL CHECK (state IN ('pending', 'cast')),
  pending_seq INTEGER NOT NULL,
  cast_seq    INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX ballots_pending ON ballots (state, pending_seq);

-- Cast records not yet in a closed batch, with their leaf hashes.
CREATE TABLE open_batch (
  cast_seq  INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
) STRICT;

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
