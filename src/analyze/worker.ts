/**
 * One analysis thread of `--threads N` (src/analyze/parallel.ts): reads frames from its ring, runs its own streamed
 * session over the tuples the reader hashed to it, sweeps where the reader says (where one session would), and
 * posts its judged connections (spool records), the links between incarnations and the frames that opened
 * connections in batches; at the end its SYN-flood targets, evictions and text digest.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { FloodRaw } from '../findings/syn-flood.js';
import type { Settings } from '../model/report.js';
import type { EvictionCounts } from '../tcp/flow-table.js';
import { TextDigest, type DigestRaw } from './digest.js';
import { heapGuard } from './memory.js';
import { RingReader, type RingBuffers } from './ring.js';
import { AnalysisSession } from './session.js';
import { SpoolBatch, type SpoolOptions } from './spool.js';

export interface WorkerInput {
  ring: RingBuffers;
  settings: Settings;
  maxConnections: number;
  spool: SpoolOptions;
  /** Text report: keep a digest with this many findings per kind; null for JSON. */
  maxPerKind: number | null;
  /** This thread's number. */
  w: number;
  /** Where the reader hands each batch's buffer back once it has read it (SpoolBatch.recycle()). */
  back: MessagePort;
}

export interface BatchMessage {
  type: 'batch';
  /** Judged connections (SpoolBatch.take(): spill records as bytes, shares as numbers). */
  bytes: ArrayBuffer;
  used: number;
  meta: Float64Array;
  links: [number, string, number][];
  /** Frames that opened connections since the last batch, ascending. */
  opens: Uint32Array;
}

/** The thread stopped: the analysis failed on a frame (a bug), or its heap neared its limit. */
export interface StopMessage { type: 'stop'; why: 'internal' | 'memory'; message: string; frame: number }

export interface EndMessage { type: 'end'; floods: FloodRaw; evictions: EvictionCounts; evicted: number; digest: DigestRaw | null }

/**
 * A thread's connection ids: its number and its own ordinal between U+0001 and U+0002, wherever the id appears (id,
 * previous, next, finding.connection, and the summaries and notes that name a previous incarnation). JSON escapes
 * both characters, so the reader finds every one in the text and puts the global id in its place.
 */
const localId = (w: number) => (n: number): string => `\u0001${w}.${n}\u0002`;

/** Records posted at once (and at every sweep). */
const BATCH = 512;

function main(): void {
  const input = workerData as WorkerInput;
  const port = parentPort;
  if (port === null) return;
  const digest = input.maxPerKind === null ? null : new TextDigest(input.maxPerKind);
  let links: BatchMessage['links'] = [];
  let opens: number[] = [];
  const target = new SpoolBatch(input.spool, (seq, next, start) => { links.push([seq, next, start]); });
  const post = (): void => {
    if (target.size === 0 && links.length === 0 && opens.length === 0) return;
    // The thread never waits on its event loop: buffers handed back are picked up here, before the next batch starts.
    for (let m = receiveMessageOnPort(input.back); m !== undefined; m = receiveMessageOnPort(input.back)) target.recycle(m.message as ArrayBuffer);
    const { bytes, used, meta } = target.take();
    const msg: BatchMessage = { type: 'batch', bytes, used, meta, links, opens: Uint32Array.from(opens) };
    port.postMessage(msg, [bytes, meta.buffer as ArrayBuffer, msg.opens.buffer as ArrayBuffer]);
    links = []; opens = [];
  };
  // At the end of input every connection still open is judged at once (tens of thousands on a long capture): the
  // batch goes out whenever it is full then too, not as one buffer of all of them.
  let ending = false;
  const session = new AnalysisSession(input.settings, {
    onJudged: (c, f, seq, v) => { digest?.add(c, f, seq, v); if (ending && target.size >= BATCH) post(); },
  }, { spool: target, sweeps: 'external', idOf: localId(input.w), maxConnections: input.maxConnections });
  const guard = heapGuard();
  let n = 0;
  const stop = (why: StopMessage['why'], message: string, frame: number): never => {
    const m: StopMessage = { type: 'stop', why, message, frame };
    port.postMessage(m);
    throw new ThreadStopped();
  };
  const reader = new RingReader(input.ring);
  const end = reader.run((frame) => {
    const index = frame.index;
    const before = session.opened;
    try {
      session.ingest(frame);
    } catch (e) {
      stop('internal', (e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e)).split('\n')[0] as string, index);
    }
    if ((++n & 0xfff) === 0) { const full = guard(); if (full !== null) stop('memory', full, index); }
    // At most one connection opens per frame.
    if (session.opened !== before) opens.push(index);
    if (target.size >= BATCH) post();
  }, (tsSec, tsNsec) => {
    session.sweep(tsSec + tsNsec * 1e-9);
    post();
  });
  ending = true;
  session.endOfInput(end.tsSec + end.tsNsec * 1e-9);
  post();
  const done: EndMessage = { type: 'end', floods: session.floodState(), evictions: { ...session.evictionCounts() }, evicted: session.counters.evicted, digest: digest?.raw() ?? null };
  port.postMessage(done);
}

/** Thrown after a StopMessage: the thread ends without a report (the reader decides what to do). */
class ThreadStopped extends Error {}

try {
  main();
} catch (e) {
  new RingReader((workerData as WorkerInput).ring).fail();
  if (!(e instanceof ThreadStopped)) throw e;
}
