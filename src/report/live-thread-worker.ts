/**
 * One analysis thread of `teardown live --threads N` (src/report/live-threads.ts): reads frames and marks from its
 * ring and runs its own streamed session over the tuples hashed to it, writing NDJSON lines as one session does
 * (NdjsonSink). Marks come from the capture's thread in the order it saw them: a sweep (every SWEEP_EVERY TCP
 * segments), a clock tick (its time exactly), lost frames, the end. Each sweep, tick or the end closes a round: the
 * lines of the round (those made by packets, each frame's lines as a segment, then those made by the mark), the
 * frames that opened connections, the judged connections for the summary (spool records) and the counts go back in
 * one message.
 */
import { readFileSync } from 'node:fs';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { FloodRaw } from '../findings/syn-flood.js';
import type { FindingKind, Settings } from '../model/report.js';
import { NdjsonBytes, NdjsonSink } from './ndjson.js';
import type { EvictionCounts } from '../tcp/flow-table.js';
import { heapGuard } from '../analyze/memory.js';
import { KIND_LOSS, KIND_TICK, RingReader, tickTime, type RingBuffers } from '../analyze/ring.js';
import { SpoolBatch, type SpoolOptions } from '../analyze/spool.js';
import { useTempRoot } from '../analyze/temp-dir.js';
import { ThreadSession } from '../analyze/thread-session.js';

export interface LiveWorkerInput {
  ring: RingBuffers;
  settings: Settings;
  maxConnections: number;
  spool: SpoolOptions;
  ladders: 'all' | 'findings';
  w: number;
  /** Where the capture's thread hands each batch's buffer back once read. */
  back: MessagePort;
  /** The directory this thread makes its temporary files in (the capture's thread removes it). */
  tempRoot: string;
}

export interface RoundMessage {
  type: 'round';
  /** NDJSON lines of the round (thread-local connection ids), bytes [0, used). */
  lines: ArrayBuffer;
  used: number;
  /** Lines made by packets: [start, end, frame index] per frame that made any, in frame order. */
  segs: Uint32Array;
  /** Lines made by the mark that closed the round: bytes [markAt, used). */
  markAt: number;
  /** Frames that opened connections in this round, ascending. */
  opens: Uint32Array;
  /** Judged connections (SpoolBatch.take()), or null when none. */
  batch: { bytes: ArrayBuffer; used: number; meta: Float64Array } | null;
  links: [number, string, number][];
  /** The session's totals so far (for the capture's status line). */
  connections: number;
  findings: Partial<Record<FindingKind, number>>;
}

export interface LiveEndMessage {
  type: 'end'; floods: FloodRaw; evictions: EvictionCounts; evicted: number;
  /** This thread's CPU seconds (Linux; null elsewhere): bench/live-cpu.ts prints them. */
  cpu: number | null;
}

/** CPU seconds of the calling thread, from /proc (null where there is none). */
function threadCpu(): number | null {
  try {
    const f = (readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1] as string).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

class ThreadStopped extends Error {}

/** The round's lines, gathered whole (never written out here: the capture's thread takes them at each round). */
class RoundBytes extends NdjsonBytes {
  constructor() { super(() => { /* never flushed */ }); }
  override lineDone(): void { /* kept to the end of the round */ }
}

function main(): void {
  const input = workerData as LiveWorkerInput;
  const port = parentPort;
  if (port === null) return;
  useTempRoot(input.tempRoot);
  const out = new RoundBytes();
  const lines = out.w;
  const sink = new NdjsonSink(out, { ladders: input.ladders });
  let links: RoundMessage['links'] = [];
  let segs: number[] = [];
  const target = new SpoolBatch(input.spool, (seq, next, start) => { links.push([seq, next, start]); });
  const thread = new ThreadSession(input.w, input.settings, sink.hooks, {
    spool: target, maxConnections: input.maxConnections, ladders: input.ladders,
  }, heapGuard(), (m) => {
    port.postMessage(m);
    throw new ThreadStopped();
  });
  const session = thread.session;
  const round = (markAt: number): void => {
    for (let m = receiveMessageOnPort(input.back); m !== undefined; m = receiveMessageOnPort(input.back)) target.recycle(m.message as ArrayBuffer);
    const used = lines.n;
    const buf = new ArrayBuffer(used);
    new Uint8Array(buf).set(lines.buf.subarray(0, used));
    lines.n = 0;
    const batch = target.size > 0 ? target.take() : null;
    const msg: RoundMessage = {
      type: 'round', lines: buf, used, segs: Uint32Array.from(segs), markAt, opens: Uint32Array.from(thread.opens), batch, links,
      connections: session.counters.connections, findings: { ...session.counters.findings },
    };
    const transfer: ArrayBuffer[] = [buf, msg.segs.buffer as ArrayBuffer, msg.opens.buffer as ArrayBuffer];
    if (batch !== null) transfer.push(batch.bytes, batch.meta.buffer as ArrayBuffer);
    port.postMessage(msg, transfer);
    links = []; thread.opens = []; segs = [];
  };
  const reader = new RingReader(input.ring);
  const end = reader.run((frame) => {
    const at0 = lines.n;
    thread.frame(frame);
    if (lines.n !== at0) segs.push(at0, lines.n, frame.index);
  }, (tsSec, tsNsec) => {
    const at = lines.n;
    thread.mark(() => session.sweep(tsSec + tsNsec * 1e-9));
    round(at);
  }, (kind, _frame, w3, w4) => {
    if (kind === KIND_LOSS) { session.captureLoss(w3); return; }
    if (kind !== KIND_TICK) return;
    const at = lines.n;
    thread.mark(() => sink.tick(session, tickTime(w3, w4)));
    round(at);
  });
  const at = lines.n;
  thread.mark(() => session.endOfInput(end.tsSec + end.tsNsec * 1e-9));
  round(at);
  port.postMessage({ type: 'end', floods: session.floodState(), evictions: { ...session.evictionCounts() }, evicted: session.counters.evicted, cpu: threadCpu() } satisfies LiveEndMessage);
}

try {
  main();
} catch (e) {
  new RingReader((workerData as LiveWorkerInput).ring).fail();
  if (!(e instanceof ThreadStopped)) throw e;
}
