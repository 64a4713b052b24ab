/**
 * The outbox's schema, version 2 (PRAGMA user_version). A change of shape is a new version with a
 * migration here; an outbox of another version is refused, never guessed at.
 *
 * Version 2 differs from 1 only in allowing a batch of no records fields (`fields >= 0`): an anchor-only
 * batch, the county log's anchor of one cosigned checkpoint (app/county/anchor). A version 1 outbox is read
 * and written as it is (a station's batches always have fields, so its older CHECK never bites); only new
 * outboxes are created as version 2, and the county opens only version 2 ones.
 *
 * One row per transaction the station signed, stored (raw hex) before it is ever broadcast, so a crash at
 * any point leaves either nothing signed or the exact bytes to resume with. States move
 * signed → broadcast → mined (in block B at height H) → confirmed (at the profile's depth); a reorg moves a
 * transaction back to broadcast, an RBF replacement marks the old one replaced with the new txid.
 */
export const OUTBOX_SCHEMA_VERSION = 2;
/** versions this code reads and writes as they are (see above) */
export const OUTBOX_READABLE_VERSIONS: readonly number[] = [1, 2];

export const OUTBOX_SCHEMA = `
PRAGMA user_version = ${OUTBOX_SCHEMA_VERSION};

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE batches (
  batch             INTEGER PRIMARY KEY CHECK (batch >= 1),
  checkpoint_digest TEXT NOT NULL CHECK (length(checkpoint_digest) = 64),
  root              TEXT NOT NULL CHECK (length(root) = 64),
  records_digest    TEXT NOT NULL CHECK (length(records_digest) = 64),
  fields            INTEGER NOT NULL CHECK (fields >= 0),
  records           INTEGER NOT NULL CHECK (records >= 0),
  field_bytes       INTEGER NOT NULL,
  records_chain     TEXT NOT NULL,
  anchor_chain      TEXT NOT NULL,
  publication       TEXT
) STRICT;

CREATE TABLE txs (
  txid             TEXT PRIMARY KEY CHECK (length(txid) = 64),
  batch            INTEGER NOT NULL REFERENCES batches (batch),
  role             TEXT NOT NULL CHECK (role IN ('records', 'anchor')),
  chunk            INTEGER,
  ord              INTEGER NOT NULL,
  hex              TEXT NOT NULL,
  fee              INTEGER NOT NULL CHECK (fee >= 0),
  vsize            INTEGER NOT NULL CHECK (vsize > 0),
  fee_rate         REAL NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('signed', 'broadcast', 'mined', 'confirmed', 'replaced')),
  replaces         TEXT,
  replaced_by      TEXT,
  broadcast_height INTEGER,
  block_hash       TEXT,
  block_height     INTEGER,
  CHECK ((role = 'records') = (chunk IS NOT NULL))
) STRICT;
CREATE INDEX txs_by_batch ON txs (batch, role, ord);

-- the station's own spendable outputs per chain role: funding coins and the change of its own transactions
CREATE TABLE coins (
  role     TEXT NOT NULL CHECK (role IN ('records', 'anchor')),
  txid     TEXT NOT NULL CHECK (length(txid) = 64),
  vout     INTEGER NOT NULL CHECK (vout >= 0),
  value    INTEGER NOT NULL CHECK (value > 0),
  source   TEXT NOT NULL CHECK (source IN ('node', 'funding-file', 'change')),
  spent_by TEXT,
  PRIMARY KEY (role, txid, vout)
) STRICT;

-- what happened that an operator or auditor may ask about: sends, found-on-node, reorgs, replacements, errors
CREATE TABLE events (
  id     INTEGER PRIMARY KEY,
  at     TEXT NOT NULL,
  batch  INTEGER,
  txid   TEXT,
  kind   TEXT NOT NULL,
  detail TEXT NOT NULL
) STRICT;
`;
