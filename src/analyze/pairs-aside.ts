import { closeSync, openSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import type { ServerAggregate } from '../model/report.js';
import { lineSpans } from './lines.js';
import type { PairWorkerInput, PairWorkerResult } from './pair-worker.js';
import type { SeqTable } from './seq-index.js';
import type { Span, SpillRuns } from './spill.js';
import { startWorker } from './start-worker.js';
import { TempDir, TempDirError } from './temp-dir.js';

/**
 * A streamed report's pair and server aggregates folded on another thread (src/analyze/pair-worker.ts) while this
 * one writes the connections and findings: with --json the fold and the rows' JSON took ~1 s of the ~3.5 s this
 * thread spends alone at the end of the bench capture. `ready` settles when the rows are in (rejected: the thread
 * failed, a full temporary directory as a TempDirError); rows() then reads them back. close() ends the thread and
 * removes its files.
 */
export class PairsAside {
  readonly ready: Promise<void>;
  private servers: ServerAggregate[] | null = null;
  private readonly dir: TempDir;
  private readonly worker: Worker;
  private readonly out: string;

  constructor(runs: SpillRuns, runBytes: number | undefined, reuseOnly: boolean, latest: SeqTable, next: SeqTable) {
    this.dir = new TempDir('teardown-pairs-');
    this.out = this.dir.file('rows');
    const input: PairWorkerInput = { runs, runBytes: runBytes ?? null, reuseOnly, latest, next, dir: this.dir.path, out: this.out };
    this.worker = startWorker(input, [], new URL('./pair-worker', import.meta.url));
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: PairWorkerResult) => {
        if (m.type === 'done') { this.servers = m.servers; resolve(); return; }
        reject(m.code !== null ? new TempDirError(m.code) : new Error(`the aggregates thread failed: ${m.message}`));
      });
      this.worker.on('error', (e) => reject(e));
      // (after the message: settled already)
      this.worker.on('exit', (code) => reject(new Error(`the aggregates thread exited with code ${code}`)));
    });
    // Awaited only once the connections are written: a failure before then is not an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** The server rows and the pair rows' JSON, read back a row at a time (bytes valid until the next), once `ready`. */
  rows(): { servers: ServerAggregate[]; pairs: Iterable<Span> } {
    if (this.servers === null) throw new Error('the aggregates are not folded yet');
    return { servers: this.servers, pairs: readRows(this.out) };
  }

  close(): void {
    void this.worker.terminate();
    this.dir.remove();
  }
}

/** The lines of `file` (a row's JSON each), as spans of a read buffer. */
function* readRows(file: string): Generator<Span> {
  const fd = openSync(file, 'r');
  try {
    yield* lineSpans(fd);
  } finally {
    closeSync(fd);
  }
}
