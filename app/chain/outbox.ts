import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LedgerMode } from '../ledger/record';
import { PublishError } from './errors';
import { OUTBOX_READABLE_VERSIONS, OUTBOX_SCHEMA } from './outbox-schema';
import type { Coin, SignedTx } from './tx-build';

/**
 * The durable outbox (SQLite, WAL, synchronous=FULL, in the station's data directory): every transaction
 * the station signed, its state on its chain, and the coins it may spend. Each method is one committed
 * transaction, so what it acknowledged survives a power cut.
 */
export type Role = 'records' | 'anchor';
export type TxState = 'signed' | 'broadcast' | 'mined' | 'confirmed' | 'replaced';
export type BatchState = 'signed' | 'broadcast' | 'mined' | 'confirmed' | 'published';

export interface BatchRow {
  readonly batch: number;
  readonly checkpointDigest: string;
  readonly root: string;
  readonly recordsDigest: string;
  readonly fields: number;
  readonly records: number;
  readonly fieldBytes: number;
  readonly recordsChain: string;
  readonly anchorChain: string;
  readonly publication: string | null;
}

export interface TxRow {
  readonly txid: string;
  readonly batch: number;
  readonly role: Role;
  readonly chunk: number | null;
  readonly ord: number;
  readonly hex: string;
  readonly fee: number;
  readonly vsize: number;
  readonly feeRate: number;
  readonly state: TxState;
  readonly replaces: string | null;
  readonly replacedBy: string | null;
  readonly broadcastHeight: number | null;
  readonly blockHash: string | null;
  readonly blockHeight: number | null;
}

/** A transaction found on chain rather than signed by this outbox. */
export interface AdoptedTx {
  readonly txid: string;
  readonly hex: string;
  readonly fee: bigint;
  readonly vsize: number;
}

export interface EventRow {
  readonly id: number;
  readonly at: string;
  readonly batch: number | null;
  readonly txid: string | null;
  readonly kind: string;
  readonly detail: string;
}

export interface BatchStatus {
  readonly batch: number;
  readonly state: BatchState;
  readonly records: number;
  readonly fields: number;
  readonly recordsTxs: readonly { txid: string; chunk: number; state: TxState; height: number | null; block: string | null }[];
  /**
   * the anchor of record; `replaced`: older versions it replaced; `abandoned`: replacements signed after it
   * that will not be the anchor (the node refused them, or this older version was mined first)
   */
  readonly anchor: { txid: string; state: TxState; height: number | null; block: string | null; feeRate: number; replaced: readonly string[]; abandoned: readonly string[] } | null;
  readonly publication: string | null;
}

/** A pass's look at one chain: ISO time, the node's tip height, the node (profile name and URL). */
export interface ChainLook {
  readonly at: string;
  readonly tip: number;
  readonly node: string;
}

const STATE_ORDER: readonly TxState[] = ['signed', 'broadcast', 'mined', 'confirmed'];

interface RawTx {
  txid: string;
  batch: number;
  role: Role;
  chunk: number | null;
  ord: number;
  hex: string;
  fee: number;
  vsize: number;
  fee_rate: number;
  state: TxState;
  replaces: string | null;
  replaced_by: string | null;
  broadcast_height: number | null;
  block_hash: string | null;
  block_height: number | null;
}

const toTx = (r: RawTx): TxRow => ({
  txid: r.txid,
  batch: r.batch,
  role: r.role,
  chunk: r.chunk,
  ord: r.ord,
  hex: r.hex,
  fee: r.fee,
  vsize: r.vsize,
  feeRate: r.fee_rate,
  state: r.state,
  replaces: r.replaces,
  replacedBy: r.replaced_by,
  broadcastHeight: r.broadcast_height,
  blockHash: r.block_hash,
  blockHeight: r.block_height,
});

export class Outbox {
  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    readonly mode: LedgerMode,
  ) {}

  static open(file: string, mode: LedgerMode): Outbox {
    const exists = fs.existsSync(file);
    if (!exists) fs.mkdirSync(path.dirname(file), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (e) {
      throw new PublishError('outbox', `${file}: cannot open the outbox: ${(e as Error).message}`);
    }
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      if (!exists || db.pragma('user_version', { simple: true }) === 0) {
        db.exec(`BEGIN; ${OUTBOX_SCHEMA}; COMMIT;`);
        db.prepare('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)').run('format', 'tallyproof-outbox/1', 'mode', mode);
      }
      const version = db.pragma('user_version', { simple: true });
      if (!OUTBOX_READABLE_VERSIONS.includes(version as number)) throw new PublishError('outbox', `${file}: outbox schema version ${String(version)}, this software reads versions ${OUTBOX_READABLE_VERSIONS.join(' and ')}`);
      const stored = db.prepare("SELECT value FROM meta WHERE key = 'mode'").pluck().get() as string | undefined;
      if (stored !== mode) throw new PublishError('outbox', `${file}: this outbox belongs to the ${String(stored)} ledger, not the ${mode} one`);
    } catch (e) {
      db.close();
      if (e instanceof PublishError) throw e;
      throw new PublishError('outbox', `${file}: the outbox is unreadable: ${(e as Error).message}`);
    }
    return new Outbox(db, file, mode);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** PRAGMA user_version: 1 (older, every batch has records fields) or 2 (anchor-only batches allowed). */
  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** A meta value (e.g. what a county outbox anchors), or undefined. */
  meta(key: string): string | undefined {
    return this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  batch(n: number): BatchRow | undefined {
    const r = this.db.prepare('SELECT * FROM batches WHERE batch = ?').get(n) as Record<string, unknown> | undefined;
    return r === undefined ? undefined : toBatch(r);
  }

  batches(): BatchRow[] {
    return (this.db.prepare('SELECT * FROM batches ORDER BY batch').all() as Record<string, unknown>[]).map(toBatch);
  }

  /** Current (not replaced) transactions of a batch, in broadcast order. */
  txsOf(batch: number, role?: Role): TxRow[] {
    const rows =
      role === undefined
        ? this.db.prepare("SELECT * FROM txs WHERE batch = ? AND state <> 'replaced' ORDER BY role DESC, ord").all(batch)
        : this.db.prepare("SELECT * FROM txs WHERE batch = ? AND role = ? AND state <> 'replaced' ORDER BY ord").all(batch, role);
    return (rows as RawTx[]).map(toTx);
  }

  allTxsOf(batch: number): TxRow[] {
    return (this.db.prepare('SELECT * FROM txs WHERE batch = ? ORDER BY role DESC, ord').all(batch) as RawTx[]).map(toTx);
  }

  txByid(txid: string): TxRow | undefined {
    const r = this.db.prepare('SELECT * FROM txs WHERE txid = ?').get(txid) as RawTx | undefined;
    return r === undefined ? undefined : toTx(r);
  }

  /**
   * Records a batch and its signed transactions in one commit, before any is broadcast, and moves the coins:
   * the inputs become spent, each transaction's change becomes the next one's (records) or waits for
   * confirmation (anchor: a fee bump would change it).
   */
  recordSigned(row: BatchRow, records: readonly SignedTx[], anchor: SignedTx, spent: { role: Role; coin: Coin }[]): void {
    this.tx(() => {
      // a second publisher process signing the same batch at the same moment loses here, before it sends anything
      if (this.batch(row.batch) !== undefined) throw new PublishError('conflict', `batch ${row.batch} was signed by another publisher meanwhile; run again`);
      for (const s of spent) {
        const c = this.db.prepare('SELECT spent_by FROM coins WHERE role = ? AND txid = ? AND vout = ?').pluck().get(s.role, s.coin.txid, s.coin.vout) as string | null | undefined;
        if (c !== null && c !== undefined) throw new PublishError('conflict', `coin ${s.coin.txid}:${s.coin.vout} was spent by ${c} meanwhile; run again`);
      }
      this.db
        .prepare('INSERT INTO batches (batch, checkpoint_digest, root, records_digest, fields, records, field_bytes, records_chain, anchor_chain, publication) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)')
        .run(row.batch, row.checkpointDigest, row.root, row.recordsDigest, row.fields, row.records, row.fieldBytes, row.recordsChain, row.anchorChain);
      const ins = this.db.prepare("INSERT INTO txs (txid, batch, role, chunk, ord, hex, fee, vsize, fee_rate, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'signed')");
      records.forEach((t, i) => ins.run(t.txid, row.batch, 'records', i, i, t.hex, Number(t.fee), t.vsize, t.feeRate));
      ins.run(anchor.txid, row.batch, 'anchor', null, 0, anchor.hex, Number(anchor.fee), anchor.vsize, anchor.feeRate);
      for (const s of spent) this.markSpent(s.role, s.coin, s.role === 'records' ? (records[0]?.txid ?? '') : anchor.txid);
      // the chain's inner change outputs are spent by the next transaction of the chain; only the last is free
      records.slice(0, -1).forEach((t, i) => this.insertCoin('records', t.change, 'change', (records[i + 1] as SignedTx).txid));
      const last = records[records.length - 1];
      if (last !== undefined) this.insertCoin('records', last.change, 'change', null);
      this.eventRaw(row.batch, null, 'signed', `${records.length} records transactions and the anchor ${anchor.txid} signed`);
    });
  }

  /**
   * A replacement anchor, stored before it is broadcast; the old one is marked replaced until the new one
   * is seen. Signing is deterministic, so a bump at a rate tried before gives a transaction the outbox
   * already holds (refused or abandoned earlier): that row is taken up again rather than duplicated.
   */
  recordReplacement(old: TxRow, next: SignedTx): void {
    this.tx(() => {
      this.db
        .prepare(
          `INSERT INTO txs (txid, batch, role, chunk, ord, hex, fee, vsize, fee_rate, state, replaces) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'signed', ?)
           ON CONFLICT (txid) DO UPDATE SET state = 'signed', replaced_by = NULL, block_hash = NULL, block_height = NULL, broadcast_height = NULL`,
        )
        .run(next.txid, old.batch, old.role, old.chunk, old.ord + 1, next.hex, Number(next.fee), next.vsize, next.feeRate, old.txid);
      this.db.prepare("UPDATE txs SET state = 'replaced', replaced_by = ? WHERE txid = ?").run(next.txid, old.txid);
      this.db.prepare('UPDATE coins SET spent_by = ? WHERE spent_by = ?').run(next.txid, old.txid);
      this.eventRaw(old.batch, next.txid, 'replacement-signed', `replaces ${old.txid} at ${next.feeRate.toFixed(2)} sat/vB (was ${old.feeRate.toFixed(2)})`);
    });
  }

  /**
   * The node refused a replacement (replacement disabled, fee too low for its rules): the replacement is set
   * aside (replaced, with the height of the refusal in broadcast_height so the next bump waits) and the
   * transaction it was to replace is the one tracked again.
   */
  refuseReplacement(next: TxRow, height: number, reason: string): void {
    const old = next.replaces;
    if (old === null) throw new PublishError('conflict', `${next.txid} replaces nothing`);
    this.tx(() => {
      this.db.prepare("UPDATE txs SET state = 'replaced', replaced_by = NULL, broadcast_height = ? WHERE txid = ?").run(height, next.txid);
      this.db.prepare("UPDATE txs SET state = 'broadcast', replaced_by = NULL WHERE txid = ?").run(old);
      this.db.prepare('UPDATE coins SET spent_by = ? WHERE spent_by = ?').run(old, next.txid);
      this.eventRaw(next.batch, next.txid, 'replacement-refused', `the node refused this replacement of ${old}: ${reason}; ${old} stays the anchor and is tracked`);
    });
  }

  /**
   * One version of a batch's anchor is in a block: it is the anchor of record, whichever fee it paid. Every
   * other version (an older one it replaced, or a newer replacement signed after it went out) is marked
   * replaced, and the coin they all spend is recorded as spent by the mined one. Returns the versions newly
   * set aside.
   */
  settleAnchor(batch: number, winner: string): TxRow[] {
    return this.tx(() => {
      const others = this.allTxsOf(batch).filter((t) => t.role === 'anchor' && t.txid !== winner);
      const setAside = others.filter((t) => t.state !== 'replaced');
      for (const t of others) {
        this.db.prepare("UPDATE txs SET state = 'replaced', block_hash = NULL, block_height = NULL WHERE txid = ?").run(t.txid);
        this.db.prepare('UPDATE coins SET spent_by = ? WHERE spent_by = ?').run(winner, t.txid);
      }
      return setAside;
    });
  }

  setState(txid: string, state: TxState, fields: { broadcastHeight?: number; blockHash?: string | null; blockHeight?: number | null } = {}): void {
    const cur = this.txByid(txid);
    if (cur === undefined) throw new PublishError('conflict', `no transaction ${txid} in the outbox`);
    this.db
      .prepare('UPDATE txs SET state = ?, broadcast_height = ?, block_hash = ?, block_height = ? WHERE txid = ?')
      .run(
        state,
        fields.broadcastHeight ?? cur.broadcastHeight,
        fields.blockHash === undefined ? cur.blockHash : fields.blockHash,
        fields.blockHeight === undefined ? cur.blockHeight : fields.blockHeight,
        txid,
      );
  }

  setPublication(batch: number, file: string | null): void {
    this.db.prepare('UPDATE batches SET publication = ? WHERE batch = ?').run(file, batch);
  }

  // coins

  private insertCoin(role: Role, c: Coin, source: 'node' | 'funding-file' | 'change', spentBy: string | null): void {
    this.db.prepare('INSERT OR IGNORE INTO coins (role, txid, vout, value, source, spent_by) VALUES (?, ?, ?, ?, ?, ?)').run(role, c.txid, c.vout, Number(c.value), source, spentBy);
  }

  /** Whether the outbox holds this outpoint (for `role`, or for any role). */
  knowsCoin(txid: string, vout: number, role?: Role): boolean {
    const row = role === undefined ? this.db.prepare('SELECT 1 FROM coins WHERE txid = ? AND vout = ?').get(txid, vout) : this.db.prepare('SELECT 1 FROM coins WHERE role = ? AND txid = ? AND vout = ?').get(role, txid, vout);
    return row !== undefined;
  }

  /** Whether the outbox holds this outpoint as spent by one of its transactions (for `role`, or any role). */
  isSpentByKnownTx(txid: string, vout: number, role?: Role): boolean {
    const row =
      role === undefined
        ? this.db.prepare('SELECT 1 FROM coins WHERE txid = ? AND vout = ? AND spent_by IS NOT NULL').get(txid, vout)
        : this.db.prepare('SELECT 1 FROM coins WHERE role = ? AND txid = ? AND vout = ? AND spent_by IS NOT NULL').get(role, txid, vout);
    return row !== undefined;
  }

  /**
   * A batch whose transactions were found on its chains though the outbox had no record of it (the outbox
   * that signed them was lost): stored as broadcast, with the coins they spend and the records chain's last
   * change, in one commit, so tracking takes over and nothing is signed for it again.
   */
  recordAdopted(row: BatchRow, records: readonly AdoptedTx[], anchor: AdoptedTx, coins: readonly { role: Role; coin: Coin; source: 'node' | 'change'; spentBy: string | null }[], height: number, detail: string): void {
    this.tx(() => {
      if (this.batch(row.batch) !== undefined) throw new PublishError('conflict', `batch ${row.batch} was signed by another publisher meanwhile; run again`);
      this.db
        .prepare('INSERT INTO batches (batch, checkpoint_digest, root, records_digest, fields, records, field_bytes, records_chain, anchor_chain, publication) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)')
        .run(row.batch, row.checkpointDigest, row.root, row.recordsDigest, row.fields, row.records, row.fieldBytes, row.recordsChain, row.anchorChain);
      const ins = this.db.prepare("INSERT INTO txs (txid, batch, role, chunk, ord, hex, fee, vsize, fee_rate, state, broadcast_height) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'broadcast', ?)");
      records.forEach((t, i) => ins.run(t.txid, row.batch, 'records', i, i, t.hex, Number(t.fee), t.vsize, Number(t.fee) / t.vsize, height));
      ins.run(anchor.txid, row.batch, 'anchor', null, 0, anchor.hex, Number(anchor.fee), anchor.vsize, Number(anchor.fee) / anchor.vsize, height);
      for (const c of coins) {
        this.insertCoin(c.role, c.coin, c.source, c.spentBy);
        if (c.spentBy !== null) this.markSpent(c.role, c.coin, c.spentBy);
      }
      this.eventRaw(row.batch, null, 'adopted', detail);
    });
  }

  addCoin(role: Role, c: Coin, source: 'node' | 'funding-file' | 'change'): void {
    this.insertCoin(role, c, source, null);
  }

  private markSpent(role: Role, c: Coin, by: string): void {
    this.db.prepare('UPDATE coins SET spent_by = ? WHERE role = ? AND txid = ? AND vout = ?').run(by, role, c.txid, c.vout);
  }

  coin(role: Role, txid: string, vout: number): Coin | undefined {
    const r = this.db.prepare('SELECT txid, vout, value FROM coins WHERE role = ? AND txid = ? AND vout = ?').get(role, txid, vout) as { txid: string; vout: number; value: number } | undefined;
    return r === undefined ? undefined : { txid: r.txid, vout: r.vout, value: BigInt(r.value) };
  }

  /** Unspent coins for a role, largest first. */
  availableCoins(role: Role): Coin[] {
    return (this.db.prepare('SELECT txid, vout, value FROM coins WHERE role = ? AND spent_by IS NULL ORDER BY value DESC, txid, vout').all(role) as { txid: string; vout: number; value: number }[]).map((r) => ({
      txid: r.txid,
      vout: r.vout,
      value: BigInt(r.value),
    }));
  }

  // events

  private eventRaw(batch: number | null, txid: string | null, kind: string, detail: string): void {
    this.db.prepare('INSERT INTO events (at, batch, txid, kind, detail) VALUES (?, ?, ?, ?, ?)').run(new Date().toISOString(), batch, txid, kind, detail);
  }

  event(batch: number | null, txid: string | null, kind: string, detail: string): void {
    this.eventRaw(batch, txid, kind, detail);
  }

  events(batch?: number): EventRow[] {
    const rows = batch === undefined ? this.db.prepare('SELECT * FROM events ORDER BY id').all() : this.db.prepare('SELECT * FROM events WHERE batch = ? ORDER BY id').all(batch);
    return rows as EventRow[];
  }

  /** Records that a pass looked at a role's chain: when, the node's tip height and which node. */
  noteLooked(role: Role, tip: number, node: string): void {
    const value = JSON.stringify({ at: new Date().toISOString(), tip, node });
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(`looked:${role}`, value);
  }

  /** When a pass last looked at a role's chain; null if none ever did (an offline station). */
  lastLooked(role: Role): ChainLook | null {
    const raw = this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(`looked:${role}`) as string | undefined;
    if (raw === undefined) return null;
    const v = JSON.parse(raw) as Partial<ChainLook>;
    return typeof v.at === 'string' && typeof v.tip === 'number' && typeof v.node === 'string' ? { at: v.at, tip: v.tip, node: v.node } : null;
  }

  status(): BatchStatus[] {
    return this.batches().map((b) => {
      const current = this.txsOf(b.batch);
      const all = this.allTxsOf(b.batch);
      const records = current.filter((t) => t.role === 'records');
      const anchor = current.find((t) => t.role === 'anchor');
      const least = current.reduce((m, t) => Math.min(m, STATE_ORDER.indexOf(t.state)), STATE_ORDER.length - 1);
      const state: BatchState = b.publication !== null ? 'published' : (STATE_ORDER[least] as BatchState);
      return {
        batch: b.batch,
        state,
        records: b.records,
        fields: b.fields,
        recordsTxs: records.map((t) => ({ txid: t.txid, chunk: t.chunk as number, state: t.state, height: t.blockHeight, block: t.blockHash })),
        anchor:
          anchor === undefined
            ? null
            : {
                txid: anchor.txid,
                state: anchor.state,
                height: anchor.blockHeight,
                block: anchor.blockHash,
                feeRate: anchor.feeRate,
                replaced: all.filter((t) => t.role === 'anchor' && t.state === 'replaced' && t.ord < anchor.ord).map((t) => t.txid),
                abandoned: all.filter((t) => t.role === 'anchor' && t.state === 'replaced' && t.ord > anchor.ord).map((t) => t.txid),
              },
        publication: b.publication,
      };
    });
  }
}

function toBatch(r: Record<string, unknown>): BatchRow {
  return {
    batch: r.batch as number,
    checkpointDigest: r.checkpoint_digest as string,
    root: r.root as string,
    recordsDigest: r.records_digest as string,
    fields: r.fields as number,
    records: r.records as number,
    fieldBytes: r.field_bytes as number,
    recordsChain: r.records_chain as string,
    anchorChain: r.anchor_chain as string,
    publication: (r.publication as string | null) ?? null,
  };
}
