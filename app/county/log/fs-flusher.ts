import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Socket } from 'node:net';
import { TlogError } from '../tlog/stored-hashes';

/**
 * Flushes the whole file system holding a directory (`sync -f`: one syncfs) through a small shell started once,
 * which runs `sync` for each request.
 *
 * Why not `execFile('sync')` each time: Linux starts a child by forking, and forking the county server (a heap of
 * hundreds of megabytes) copies its page tables and leaves every page write-protected, so each page the server
 * writes next takes a fault. Measured on the append benchmark: about a fifth of the append's CPU time for one
 * flush per 131,072 entries. The shell forks only itself, a process of a few hundred kilobytes.
 *
 * The shell reads one line per request and answers one line: `ok`, or `fail ` and what `sync` wrote. A helper
 * that failed, died or answered anything else is dropped, and the next flush starts a fresh one (with the
 * process's environment at that time).
 */

// $0 is the directory (argv after -c). `sync`'s messages are folded onto the answer's line by the shell's own
// word splitting (globbing off) and builtins, so the answer still comes when the PATH finds nothing.
const SCRIPT = "set -f; while read -r _; do if err=$(sync -f -- \"$0\" 2>&1); then echo ok; else printf fail; printf ' %s' $err; printf '\\n'; fi; done";

/** A child's pipes are sockets (they can be unref'd: an idle helper must not keep the server's process alive). */
const socket = (stream: NodeJS.ReadableStream | NodeJS.WritableStream): Socket => stream as unknown as Socket;

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
}

export class FileSystemFlusher {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly waiting: Waiter[] = [];
  private pending = '';

  constructor(readonly dir: string) {}

  /** Resolves once the file system under `dir` is flushed; rejects with a TlogError saying why it is not. */
  flush(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let child: ChildProcessWithoutNullStreams;
      try {
        child = this.helper();
      } catch (e) {
        reject(new TlogError(`cannot start the file system flusher (/bin/sh): ${(e as Error).message}`));
        return;
      }
      this.waiting.push({ resolve, reject });
      // a request keeps the process alive until it is answered; an idle helper does not
      socket(child.stdout).ref();
      child.stdin.write('\n');
    });
  }

  /** The helper's process id while one runs. */
  get helperPid(): number | undefined {
    return this.child?.pid;
  }

  /** Ends the helper (it also ends by itself when this process does: its input closes). */
  close(): void {
    this.drop(new TlogError('the file system flusher was closed before it answered'));
  }

  private helper(): ChildProcessWithoutNullStreams {
    if (this.child !== undefined) return this.child;
    const child = spawn('/bin/sh', ['-c', SCRIPT, this.dir], { env: process.env, stdio: 'pipe' });
    this.child = child;
    this.pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.answer(child, chunk));
    // what the shell itself says (it cannot start, say) reaches the server's log; `sync`'s own messages are answered
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`county log flusher: ${chunk.toString('utf8')}`));
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => this.dropIf(child, new TlogError(`the file system flusher (/bin/sh) failed: ${e.message}`)));
    child.on('exit', (code, signal) => this.dropIf(child, new TlogError(`the file system flusher (/bin/sh) ended (${signal ?? `exit ${code}`}) before it answered`)));
    child.unref();
    socket(child.stdout).unref();
    socket(child.stderr).unref();
    socket(child.stdin).unref();
    return child;
  }

  private answer(child: ChildProcessWithoutNullStreams, chunk: string): void {
    if (child !== this.child) return;
    this.pending += chunk;
    for (let nl = this.pending.indexOf('\n'); nl >= 0; nl = this.pending.indexOf('\n')) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      const waiter = this.waiting.shift();
      if (waiter === undefined) {
        this.drop(new TlogError(`the file system flusher answered ${JSON.stringify(line)} when nothing was asked`));
        return;
      }
      if (this.waiting.length === 0) socket(child.stdout).unref();
      if (line === 'ok') waiter.resolve();
      else {
        waiter.reject(new TlogError(line.startsWith('fail ') ? `sync -f ${this.dir}: ${line.slice(5).trim() || 'failed'}` : `the file system flusher answered ${JSON.stringify(line)}`));
        // a failed flush starts the next one on a fresh helper
        this.drop(new TlogError('the file system flusher was restarted after a failed flush'));
        return;
      }
    }
  }

  private dropIf(child: ChildProcessWithoutNullStreams, why: Error): void {
    if (child === this.child) this.drop(why);
  }

  private drop(why: Error): void {
    const child = this.child;
    this.child = undefined;
    this.pending = '';
    for (const w of this.waiting.splice(0)) w.reject(why);
    if (child !== undefined) {
      child.stdin.end();
      if (child.exitCode === null && child.signalCode === null) child.kill();
    }
  }
}
