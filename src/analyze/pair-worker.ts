/**
 * The thread that folds a streamed report's pair and server aggregates (src/analyze/pairs-aside.ts) while the
 * reading thread writes the connections and findings: the pair spill's runs, handed off, are folded as the reading
 * thread would fold them (PairSpill.ofRuns), the pair rows' JSON goes to a file, a row per line, and the server rows
 * come back in the message. Its own temporary files go inside the reading thread's directory.
 */
import { closeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { showsReuse } from '../findings/aggregates.js';
import type { ServerAggregate } from '../model/report.js';
import { PairSpill } from './pair-spill.js';
import { seqLookup, type SeqTable } from './seq-index.js';
import type { Span, SpillRuns } from './spill.js';
import { openTemp, TempDirError, useTempRoot, writeTemp } from './temp-dir.js';

export interface PairWorkerInput {
  runs: SpillRuns;
  /** The PairSpill's own runBytes (its rows' spill), null: the default. */
  runBytes: number | null;
  /** Only the rows the text report lists (showsReuse). */
  reuseOnly: boolean;
  /** The version of each connection judged more than once, and the start of each connection's next incarnation. */
  latest: SeqTable;
  next: SeqTable;
  /** The reading thread's directory for this thread's files, and the file the rows go to. */
  dir: string;
  out: string;
}

export type PairWorkerResult = { type: 'done'; servers: ServerAggregate[] } | { type: 'failed'; code: string | null; message: string };

/** Bytes gathered before they are written. */
const OUT = 1 << 20;

/** The rows' JSON to `file`, each followed by a newline. */
function writeRows(rows: Iterable<Span>, file: string): void {
  const fd = openTemp(file, 'w');
  try {
    let buf = Buffer.allocUnsafe(OUT);
    let n = 0;
    for (const r of rows) {
      const len = r.end - r.at + 1;
      if (n + len > buf.length) {
        writeTemp(fd, buf, 0, n);
        n = 0;
        if (len > buf.length) buf = Buffer.allocUnsafe(len);
      }
      buf.set(r.buf.subarray(r.at, r.end), n);
      n += len - 1;
      buf[n++] = 0x0a;
    }
    if (n > 0) writeTemp(fd, buf, 0, n);
  } finally {
    closeSync(fd);
  }
}

function fold(input: PairWorkerInput): PairWorkerResult {
  useTempRoot(input.dir);
  const pairs = PairSpill.ofRuns(input.runs, input.runBytes ?? undefined, input.reuseOnly ? showsReuse : null, {
    version: seqLookup(input.latest),
    nextStart: seqLookup(input.next),
  });
  try {
    const servers = pairs.servers();
    writeRows(pairs.rowJson(), input.out);
    return { type: 'done', servers };
  } finally {
    pairs.close();
  }
}

let result: PairWorkerResult;
try {
  result = fold(workerData as PairWorkerInput);
} catch (e) {
  result = e instanceof TempDirError
    ? { type: 'failed', code: e.code, message: e.message }
    : { type: 'failed', code: null, message: e instanceof Error ? e.stack ?? e.message : String(e) };
}
parentPort?.postMessage(result);
