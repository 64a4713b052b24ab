import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AnchorProfileSchema } from '../../app/chain/chains-config';
import { PublishError } from '../../app/chain/errors';
import { Outbox } from '../../app/chain/outbox';
import { OUTBOX_SCHEMA } from '../../app/chain/outbox-schema';
import { publishAnchorOnly } from '../../app/chain/publish';
import { countyAnchorLayout } from '../../app/county/anchor/county-anchor';
import { stationKeys, tempDir } from './helpers';

/*
 * Schema version 2 only widens one CHECK (a batch of no records fields: the county's anchor-only batches).
 * A station's version 1 outbox keeps working as it is; it is never given an anchor-only batch, and a
 * version this code does not know is refused.
 */

let dir: string;
beforeEach(() => {
  dir = tempDir('outbox-version-');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function makeOutbox(file: string, version: number, fieldsCheck: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec(`BEGIN; ${OUTBOX_SCHEMA.replace(/PRAGMA user_version = \d+;/, `PRAGMA user_version = ${version};`).replace('CHECK (fields >= 0)', fieldsCheck)}; COMMIT;`);
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)').run('format', 'tallyproof-outbox/1', 'mode', 'official');
  db.close();
}

test('a new outbox is version 2; a version 1 outbox opens as it is; an unknown version is refused', () => {
  const fresh = Outbox.open(path.join(dir, 'new', 'outbox.sqlite'), 'official');
  expect(fresh.schemaVersion).toBe(2);
  fresh.close();
  makeOutbox(path.join(dir, 'v1', 'outbox.sqlite'), 1, 'CHECK (fields >= 1)');
  const old = Outbox.open(path.join(dir, 'v1', 'outbox.sqlite'), 'official');
  expect(old.schemaVersion).toBe(1);
  expect(old.status()).toEqual([]);
  old.close();
  makeOutbox(path.join(dir, 'v3', 'outbox.sqlite'), 3, 'CHECK (fields >= 0)');
  expect(() => Outbox.open(path.join(dir, 'v3', 'outbox.sqlite'), 'official')).toThrow(/outbox schema version 3, this software reads versions 1 and 2/);
});

test('anchor-only batches are refused in a version 1 outbox, before any node is asked', async () => {
  const layout = countyAnchorLayout(dir);
  makeOutbox(layout.outbox, 1, 'CHECK (fields >= 1)');
  const anchor = AnchorProfileSchema.parse({ name: 'ltc-anchor', network: 'litecoin-regtest', rpc: { url: 'http://127.0.0.1:9/', retries: 0, timeoutMs: 200 } });
  const run = publishAnchorOnly({ layout, mode: 'official', anchor, wallet: stationKeys().wallet, items: [], publicationOf: () => Promise.resolve({}) });
  await expect(run).rejects.toThrow(PublishError);
  await expect(publishAnchorOnly({ layout, mode: 'official', anchor, wallet: stationKeys().wallet, items: [], publicationOf: () => Promise.resolve({}) })).rejects.toThrow(/schema version 1 cannot hold anchor-only batches/);
});

test('a test-mode log is never anchored to a live chain', async () => {
  const anchor = AnchorProfileSchema.parse({ name: 'btc', network: 'bitcoin-main' });
  await expect(publishAnchorOnly({ layout: countyAnchorLayout(dir), mode: 'test', anchor, wallet: stationKeys().wallet, items: [], publicationOf: () => Promise.resolve({}) })).rejects.toThrow(/test-mode log is never anchored to .*bitcoin-main/);
  expect(fs.existsSync(countyAnchorLayout(dir).outbox)).toBe(false);
});
