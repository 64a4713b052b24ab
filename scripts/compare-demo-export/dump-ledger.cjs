/**
 * Writes a ledger's content as text: every table (entries, leaves, checkpoints, meta), every row, every
 * column, blobs in hex, in rowid order. The entries' bytes and chain hashes are the ledger; the SQLite
 * file's own page layout (free pages, WAL checkpoints) is not, so the file itself is not compared.
 * Usage: dump-ledger.cjs <ledger.sqlite> <out.txt>
 */
'use strict';
const fs = require('node:fs');
const Database = require('better-sqlite3');

const [file, out] = process.argv.slice(2);
const db = new Database(file, { readonly: true, fileMustExist: true });
const hex = (v) => (Buffer.isBuffer(v) ? v.toString('hex') : v === null ? 'null' : String(v));
const text = [];
for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()) {
  text.push(`== ${name}`);
  for (const row of db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()) text.push(Object.entries(row).map(([k, v]) => `${k}=${hex(v)}`).join(' '));
}
db.close();
fs.writeFileSync(out, `${text.join('\n')}\n`);
