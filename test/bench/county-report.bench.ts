/**
 * Issue 16's concurrent-report budget: 1,000 simulated stations send their signed checkpoints at once over
 * loopback HTTP to `tallyproof county serve` (its own process), with three witnesses (`tallyproof witness`,
 * each its own process) and a quorum of two. Measured per station: report-to-inclusion (the POST's answer,
 * given once the entry is in a tree whose tiles are on disk) and report-to-publication (the first witnessed
 * checkpoint covering it); the log's peak memory; every entry's inclusion proved from the published
 * checkpoint afterwards. Budget: every checkpoint included, p99 report-to-inclusion ≤ 2 s plus the round
 * interval. Same-run baseline: the same POSTs answered at once by a bare HTTP server in its own process.
 *   node scripts/run-ts.js test/bench/county-report.bench.ts [stations=1000] [roundSeconds=1] [waves=2]
 * Not measured here: the anchor transaction per round (test/e2e/county-day.test.ts and test/cli/county-anchor.test.ts
 * check one transaction a round on litecoind -regtest).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogClient } from '../../app/county/client/log-client';
import { ALG_COSIGNATURE_V1, ALG_ED25519, formatSignerKey, formatVerifierKey, generateSigner } from '../../app/county/tlog/note';
import { makeStations, registryOf, stationEntry } from '../county/support';
import { machine } from './support/machine';

const STATIONS = Number(process.argv[2] ?? 1000);
const ROUND_SECONDS = Number(process.argv[3] ?? 1);
const WAVES = Number(process.argv[4] ?? 2);
const ROOT = path.resolve(__dirname, '..', '..');
const ORIGIN = 'county.bench/2026-general';
const children: ChildProcess[] = [];
const outputs = new Map<ChildProcess, () => string>();

function start(args: string[], ready: RegExp, cwd: string, program: string[] = [path.join(ROOT, 'scripts', 'run-ts.js'), path.join(ROOT, 'test', 'cli', 'support', 'launch-child.ts')]): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...program, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  outputs.set(child, () => out);
  return new Promise((resolve, reject) => {
    const on = (s: string): void => {
      out += s;
      const m = ready.exec(out);
      if (m !== null) resolve({ child, match: m });
    };
    child.stdout?.setEncoding('utf8').on('data', on);
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.on('exit', (code) => {
      if (process.env.BENCH_DEBUG) console.error(`child ${args.slice(0, 2).join(' ')} exited ${code}: ${out.slice(-2000)}`);
      reject(new Error(`${args.join(' ')} exited ${code}: ${out}`));
    });
  });
}

function peakRssMiB(pid: number | undefined): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

function percentile(sorted: readonly number[], p: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);
}

function summary(ms: readonly number[]): { p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: Math.round(s[s.length - 1] as number) };
}

/** Every station posts at once; resolves with each one's answer and time to answer. */
async function wave(url: string, bodies: readonly Uint8Array[]): Promise<{ status: number; index: number; treeSize: number; sentAt: number; ms: number; retries: number }[]> {
  return Promise.all(
    bodies.map(async (body) => {
      const sentAt = performance.now();
      let res: Response | undefined;
      let retries = 0;
      // a station sends again when the connection drops (a kept-alive socket the server closed as it was
      // reused); the log answers a resend with the same index
      for (; res === undefined; retries++) {
        try {
          res = await fetch(`${url}/add-entry`, { method: 'POST', body });
        } catch (e) {
          if (retries >= 3) throw e;
        }
      }
      const text = await res.text();
      const ms = performance.now() - sentAt;
      const parsed = res.status === 200 ? (JSON.parse(text) as { index: number; treeSize: number }) : { index: -1, treeSize: -1 };
      return { status: res.status, index: parsed.index, treeSize: parsed.treeSize, sentAt, ms, retries: retries - 1 };
    }),
  );
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'county-report-'));
  const write = (name: string, value: unknown): void => fs.writeFileSync(path.join(dir, name), typeof value === 'string' ? value : JSON.stringify(value), { mode: 0o600 });
  try {
    const stations = makeStations(STATIONS);
    write('stations.json', registryOf(stations));
    const bodies = Array.from({ length: WAVES }, (_, w) => stations.map((s) => stationEntry(s, w + 1)));

    // baseline: a bare HTTP server answering each POST at once, in its own process
    const bare = await start(
      ['-e', "const h=require('node:http');const s=h.createServer((q,r)=>{q.resume();q.on('end',()=>r.end('{}'))});s.keepAliveTimeout=60000;s.listen(0,'127.0.0.1',()=>console.log('bare http://127.0.0.1:'+s.address().port))"],
      /bare (http:\/\/127\.0\.0\.1:\d+)/,
      dir,
      [],
    );
    const bareUrl = bare.match[1] as string;
    await wave(bareUrl, bodies[0] as Uint8Array[]); // warm-up
    const b0 = performance.now();
    const baseline = await wave(bareUrl, bodies[0] as Uint8Array[]);
    const baselineMs = performance.now() - b0;
    bare.child.kill('SIGTERM');

    const logKey = generateSigner(ORIGIN, ALG_ED25519);
    write('log.key', `${formatSignerKey(logKey)}\n`);
    const witnessKeys = [1, 2, 3].map((i) => generateSigner(`observer-${i}.bench/w`, ALG_COSIGNATURE_V1));
    const witnesses: string[] = [];
    for (const [i, k] of witnessKeys.entries()) {
      write(`w${i}.key`, `${formatSignerKey(k)}\n`);
      write(`w${i}.json`, { format: 'tallyproof-witness/1', keyFile: `w${i}.key`, logs: [{ origin: ORIGIN, keys: [formatVerifierKey(logKey)] }] });
      const w = await start(['witness', '--config', `w${i}.json`, '--data', `w${i}`, '--port', '0'], /POST (http:\/\/127\.0\.0\.1:\d+)\/add-checkpoint/, dir);
      witnesses.push(w.match[1] as string);
    }
    write('county.json', { format: 'tallyproof-county-log/1', origin: ORIGIN, keyFile: 'log.key', stations: 'stations.json', witnesses: witnesses.map((url, i) => ({ url, key: formatVerifierKey(witnessKeys[i] as typeof logKey) })), quorum: 2, roundSeconds: ROUND_SECONDS });
    const log = await start(['county', 'serve', '--config', 'county.json', '--data', 'log', '--port', '0'], /serving (http:\/\/127\.0\.0\.1:\d+)/, dir);
    const url = log.match[1] as string;
    const client = new LogClient(url, { log: logKey, witnesses: witnessKeys, quorum: 2 });

    const waves: { inclusion: ReturnType<typeof summary>; publication: ReturnType<typeof summary>; refused: number; resent: number; rounds: number; ms: number; perSecond: number }[] = [];
    const included: { index: number; body: Uint8Array }[] = [];
    for (let w = 0; w < WAVES; w++) {
      const t0 = performance.now();
      const answers = await wave(url, bodies[w] as Uint8Array[]);
      const answeredMs = performance.now() - t0;
      // publication: poll the checkpoint until it covers the wave's last entry
      const need = Math.max(...answers.map((a) => a.index)) + 1;
      let publishedAt = 0;
      for (;;) {
        const cp = await client.checkpoint().catch(() => undefined);
        if (cp !== undefined && cp.checkpoint.size >= need) {
          publishedAt = performance.now();
          break;
        }
        if (performance.now() - t0 > 120_000) throw new Error(`no witnessed checkpoint of ${need} entries after 120 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      answers.forEach((a, i) => {
        if (a.status === 200) included.push({ index: a.index, body: (bodies[w] as Uint8Array[])[i] as Uint8Array });
      });
      waves.push({
        inclusion: summary(answers.map((a) => a.ms)),
        publication: summary(answers.map((a) => publishedAt - a.sentAt)),
        refused: answers.filter((a) => a.status !== 200).length,
        resent: answers.reduce((n, a) => n + a.retries, 0),
        rounds: new Set(answers.map((a) => a.treeSize)).size,
        ms: Math.round(answeredMs),
        perSecond: Math.round(answers.length / (answeredMs / 1000)),
      });
    }
    const logPeakMiB = peakRssMiB(log.child.pid);

    // every checkpoint included: each station's entry proved from the published checkpoint's authenticated tiles
    const cp = await client.checkpoint();
    for (const e of included) await client.inclusionProof(cp.checkpoint, e.index, e.body);
    const allIncluded = included.length === STATIONS * WAVES && cp.checkpoint.size === STATIONS * WAVES;

    const p99Budget = 2000 + ROUND_SECONDS * 1000;
    console.log(
      JSON.stringify(
        {
          bench: 'county-report',
          machine: machine(),
          loadavgBefore: loadBefore.map((l) => Math.round(l * 100) / 100),
          stations: STATIONS,
          witnesses: 3,
          quorum: 2,
          roundSeconds: ROUND_SECONDS,
          entryBytes: bodies[0]?.[0]?.length,
          baseline: { what: 'the same concurrent POSTs answered at once by a bare HTTP server (loopback HTTP alone)', ms: Math.round(baselineMs), latency: summary(baseline.map((a) => a.ms)) },
          waves,
          everyCheckpointIncluded: allIncluded,
          publishedSize: cp.checkpoint.size,
          cosignedBy: cp.cosignedBy,
          logPeakRssMiB: logPeakMiB,
          benchPeakRssMiB: peakRssMiB(process.pid),
          budget: { p99InclusionMs: p99Budget, met: allIncluded && waves.every((w) => w.inclusion.p99 <= p99Budget) },
          anchorPerRound: 'not measured here: one transaction a round is checked by test/e2e/county-day.test.ts and test/cli/county-anchor.test.ts',
          loadavgAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
        },
        null,
        2,
      ),
    );
  } finally {
    if (process.env.BENCH_DEBUG) for (const c of children) console.error(`--- ${c.spawnargs.slice(-8).join(' ')}\n${outputs.get(c)?.().slice(-3000)}`);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
