/**
 * `--threads N`: one reader (this thread) parses records, decodes each frame far enough to hash its inner TCP
 * 4-tuple (symmetric: both directions and every incarnation of a tuple, whatever the encapsulation, land on the same
 * thread, so verdicts are exact) and copies it into that worker's shared ring (src/analyze/ring.ts); each worker
 * (src/analyze/worker.ts) runs its own streamed session (a Lane, src/analyze/lane.ts). When N is the machine's cores
 * or more, thread 0's Lane runs here, between frames, and N - 1 workers take the rest (readerLane). Sweeps are
 * decided here, from every TCP segment, exactly where one session would sweep (SWEEP_EVERY), and sent to every
 * lane. The threads' judged connections go into
 * one ReportSpool, which orders them as one session's report; connection ids ('c' + rank of the frame that opened
 * the connection) are put back from the frames that opened connections (4 bytes per connection, kept to the end).
 * The output is byte for byte one session's whenever the bound on connections was not reached (each thread holds
 * its share of maxConnections, as of the tuples; docs/design.md "Threads").
 */
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { CaptureError, type PacketSource, type RawFrame, type SourceResult } from '../capture/types.js';
import { decodeFrame } from '../decode/decode.js';
import { newTcpPacket, type TcpPacket } from '../decode/packet.js';
import { FloodTracker } from '../findings/syn-flood.js';
import { DEFAULT_SETTINGS } from '../model/settings.js';
import { VERSION } from '../model/version.js';
import type { Evictions, Report, Settings } from '../model/report.js';
import { inShard, threadOf, type Shard } from '../tcp/shard.js';
import type { DigestRaw, TextDigest } from './digest.js';
import { KIND_BOUNDARY, KIND_END, newRing, RingFailed, RingWriter } from './ring.js';
import { DEFAULT_MAX_CONNECTIONS, SWEEP_EVERY, type Counters } from './session.js';
import type { ReportSpool } from './spool.js';
import { heapGuard } from './memory.js';
import { captureSummary } from './stream.js';
import { tempDirBefore, TempDirError } from './temp-dir.js';
import { startWorker } from './start-worker.js';
import { Lane, LaneStop, type BatchMessage, type EndMessage, type LaneInput } from './lane.js';
import type { StopMessage } from './thread-session.js';
import type { WorkerInput } from './worker.js';

/**
 * An analysis thread stopped (the analysis failed on a frame, or the thread's heap neared its limit), or a frame
 * could not reach one (`frame`: cutFrame()): the run has no report. One thread reports such a run exactly (what was
 * read before the frame, src/analyze/stream.ts; the whole capture when it was the frame): the CLI runs a regular
 * file again with one thread, and tells the user to for other inputs. A thread whose temporary directory failed
 * (`temp`) ends the run as a TEMP_DIR capture error instead: one thread would fail the same way.
 */
export class ThreadStop extends Error {
  constructor(readonly why: 'internal' | 'memory' | 'frame' | 'temp', readonly detail: string, readonly frame: number) {
    super(stopLine(why, detail, frame));
  }
}

function stopLine(why: ThreadStop['why'], detail: string, frame: number): string {
  const before = '(in an analysis thread; --threads 1 reports what was read before it)';
  if (why === 'frame') return `frame ${frame}: ${detail} (--threads 1 reads it)`;
  // No report: a spill that could not be written lost the record it was taking (src/analyze/temp-dir.ts).
  if (why === 'temp') return `${detail}; reading stopped at frame ${frame}`;
  if (why === 'memory') return `${detail} ${before}`;
  return `the analysis failed on frame ${frame}: ${detail} ${before}`;
}

/**
 * The thread of each share of the tuples (a segment's share is threadOf(p, shares.length)): one share per thread, or,
 * when the reader analyses a share itself and also spools JSON (`readerSpoolsJson`), one for thread 0 and two for
 * each worker. With JSON the reader copies every thread's connection and finding JSON into the spool's runs (~1 GB
 * on the bench capture), and with even shares the worker waited for frames ~20 % of the run. With two threads, four
 * alternating rounds on the bench capture: --json 14.2–18.0 s (median 15.1) against 15.4–17.3 (16.5); --text, whose
 * spool takes numbers only, was slower so (12.5–13.4 s against 10.1–12.7) and keeps even shares (bench/README.md).
 */
export function shareThreads(n: number, readerSpoolsJson: boolean): Uint16Array {
  return readerSpoolsJson ? Uint16Array.from({ length: 2 * n - 1 }, (_, s) => (s + 1) >>> 1) : Uint16Array.from({ length: n }, (_, s) => s);
}

/**
 * Each thread's bound on connections (of `cap` in all): its shares of it, rounded up, for every worker, and for thread
 * 0 what they leave (at least one), so that the bounds add up to `cap`.
 */
export function threadBounds(cap: number, shares: Uint16Array, n: number): number[] {
  const count = new Array<number>(n).fill(0);
  for (const w of shares) count[w] = (count[w] as number) + 1;
  const bounds = count.map((k) => Math.ceil((cap * k) / shares.length));
  if (Number.isFinite(cap)) bounds[0] = Math.max(1, cap - bounds.slice(1).reduce((a, b) => a + b, 0));
  return bounds;
}

/** The default of --threads: the machine's cores. */
export const defaultThreads = (): number => availableParallelism();

export interface ParallelOptions {
  threads: number;
  settings?: Partial<Settings>;
  maxConnections?: number;
  shard?: Shard;
  /** Where the judged connections go (its options say whether the workers write JSON). */
  spool: ReportSpool;
  /** Text report: the workers' digests are merged into this one. */
  digest?: TextDigest | null;
  signal?: AbortSignal;
  interrupted?: () => boolean;
  /** Bytes per worker ring (default RING_BYTES). */
  ringBytes?: number;
  /**
   * Thread 0's share is analysed in the reading thread itself (a Lane between frames, no ring, frames whole) and
   * N - 1 workers take the rest. Default: when N is the machine's cores or more, so that N busy threads share N cores
   * rather than a reader and N workers. On the bench capture with two threads on two cores, four alternating rounds
   * against two workers: --text 10.4–13.5 s against 12.8–19.4 s, --json 17.3–18.4 against 13.6–19.7 s (the same CPU),
   * and 13–20 MiB less peak RSS (one isolate fewer) (bench/README.md).
   */
  readerLane?: boolean;
}

/**
 * A worker's ring, by default: 2 MiB, ~14 k frames of the bench capture. The reader of a file is faster than the
 * analysis threads and waits for room whatever the size; 8 MiB rings held ~20 MiB more at the peak with two threads
 * on the bench capture, for no measurable time saved (bench/README.md). Frames of up to half of it fit; a larger one
 * is cut (cutFrame()).
 */
export const RING_BYTES = 2 << 20;

/** A worker's connection ids: 'c' + worker + '.' + ordinal between U+0001 and U+0002 (escaped in JSON text). */
const LOCAL_ID = /\\u0001(\d+)\.(\d+)\\u0002/g;

/** Frames per ledger chunk (a power of two). */
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;

/**
 * The frames that opened connections, per thread, ascending: turns a thread's ordinal into the global one (1 + the
 * connections, on any thread, opened before its frame). A frame's rank is final once every thread has sent its frames
 * up to it (advance(): live threads rank as rounds complete); a file's analysis ranks them all at the end (seal()).
 * Kept to the end (4 bytes per connection), in chunks of 64 k frames: a long capture's ledger never holds twice its
 * size or copies itself to grow. Ranked entries hold ranks in place of their frames.
 */
export class IdLedger {
  private readonly lists: Uint32Array[][];
  private readonly lens: number[];
  /** Per thread: entries already ranked (they hold ranks, the rest frames). */
  private readonly done: number[];
  private rank = 0;
  private sealed = false;
  constructor(n: number) {
    this.lists = Array.from({ length: n }, () => []);
    this.lens = new Array<number>(n).fill(0);
    this.done = new Array<number>(n).fill(0);
  }

  append(w: number, frames: Uint32Array): void {
    if (this.sealed) throw new Error('IdLedger: frames appended after the ledger was sealed');
    const chunks = this.lists[w] as Uint32Array[];
    let len = this.lens[w] as number;
    for (let i = 0; i < frames.length;) {
      const at = len & (CHUNK - 1);
      if (at === 0 && len >>> CHUNK_BITS === chunks.length) chunks.push(new Uint32Array(CHUNK));
      const take = Math.min(frames.length - i, CHUNK - at);
      (chunks[len >>> CHUNK_BITS] as Uint32Array).set(frames.subarray(i, i + take), at);
      i += take;
      len += take;
    }
    this.lens[w] = len;
  }

  /** Every thread has appended its frames up to `frame`: those up to it get their ranks (the lists merged by frame). */
  advance(frame: number): void {
    const n = this.lists.length;
    for (;;) {
      let best = -1;
      let min = Infinity;
      for (let v = 0; v < n; v++) {
        const h = this.done[v] as number;
        if (h < (this.lens[v] as number)) { const f = this.at(v, h); if (f < min) { min = f; best = v; } }
      }
      if (best < 0 || min > frame) return;
      const h = this.done[best] as number;
      this.put(best, h, ++this.rank);
      this.done[best] = h + 1;
    }
  }

  /** Every frame is in: all of them ranked, no append after. */
  seal(): void {
    this.sealed = true;
    this.advance(Infinity);
  }

  /** Global ordinal of thread w's n-th connection (ranked already). */
  global(w: number, n: number): number {
    if (n < 1 || n > (this.done[w] as number)) throw new Error(`connection ${w}.${n} has no id yet`);
    return this.at(w, n - 1);
  }

  private at(w: number, i: number): number {
    return ((this.lists[w] as Uint32Array[])[i >>> CHUNK_BITS] as Uint32Array)[i & (CHUNK - 1)] as number;
  }

  private put(w: number, i: number, v: number): void {
    ((this.lists[w] as Uint32Array[])[i >>> CHUNK_BITS] as Uint32Array)[i & (CHUNK - 1)] = v;
  }
}

const cutPkt = newTcpPacket();

/**
 * A frame larger than a ring takes (half of RING_BYTES; a pcap record may be up to 64 MiB): the analysis reads only
 * its headers and the lengths they give, so it goes to its thread cut to `most` bytes, as a snaplen would cut it,
 * when the cut frame decodes to the same segment. Returns the length to send, or -1 when the cut would change the
 * segment (a payload length taken from the captured bytes: IP length 0).
 */
function cutFrame(frame: RawFrame, pkt: TcpPacket, most: number): number {
  // The headers are whole (status ok): only a length taken from the captured bytes can differ.
  return decodeFrame({ ...frame, capLength: most }, cutPkt, false) === 'ok' && cutPkt.payloadLen === pkt.payloadLen ? most : -1;
}

export async function streamAnalysisParallel(source: PacketSource, opts: ParallelOptions): Promise<{ report: Report; result: SourceResult }> {
  const n = Math.max(1, Math.floor(opts.threads));
  const settings: Settings = { ...DEFAULT_SETTINGS, ...opts.settings };
  const cap = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const spool = opts.spool;
  const local = opts.readerLane ?? n >= defaultThreads();
  // The workers' temporary files, in one directory of this thread's: a terminated worker removes nothing itself.
  const tempRoot = n > (local ? 1 : 0) ? await tempDirBefore(source, 'teardown-threads-') : null;
  // Thread w's ring (none for the reader's own lane).
  const rings = Array.from({ length: n }, (_, w) => (local && w === 0 ? null : newRing(opts.ringBytes ?? RING_BYTES)));
  const writers = rings.map((r) => (r === null ? null : new RingWriter(r)));
  const ringWriters = writers.filter((wr) => wr !== null);
  const ends: (EndMessage | null)[] = rings.map(() => null);
  const ledger = new IdLedger(n);
  const seqOf = (w: number) => (local: number) => local * n + w;
  let failure: Error | null = null;
  let settle: (() => void) | null = null;
  const stopper = new AbortController();
  // A temporary directory that is full, missing or not writable, here or in a thread, ends the run without a report
  // (a spill lost the record it was taking), named as the capture's error.
  const fail = (e: Error) => {
    const full = e instanceof TempDirError || (e instanceof ThreadStop && e.why === 'temp');
    failure ??= full ? new CaptureError('TEMP_DIR', e.message, source.info.path, null) : e;
    stopper.abort();
    settle?.();
  };

  // Each batch's buffer goes back to its thread once its records are copied into the spool (the thread writes its
  // next batches in it).
  const onBatch = (w: number, m: BatchMessage) => {
    ledger.append(w, m.opens);
    const seq = seqOf(w);
    spool.addBatch(Buffer.from(m.bytes, 0, m.used), m.meta, seq);
    for (const [s, next, start] of m.links) spool.link(seq(s), next, start);
  };
  const shares = shareThreads(n, local && spool.opts.json);
  const bounds = threadBounds(cap, shares, n);
  const laneInput = (w: number): LaneInput => ({ settings, maxConnections: bounds[w] as number, spool: spool.opts, maxPerKind: opts.digest?.maxPerKind ?? null, w });
  const spares: ArrayBuffer[] = [];
  const lane = local ? new Lane(laneInput(0), (m) => { onBatch(0, m); spares.push(m.bytes); }, () => spares.pop(), null) : null;
  const backs: MessageChannel[] = [];
  const workers = rings.flatMap((ring, w) => {
    if (ring === null) return [];
    const back = new MessageChannel();
    backs.push(back);
    const worker = startWorker({ ...laneInput(w), ring, back: back.port2, tempRoot: tempRoot?.path ?? null } satisfies WorkerInput, [back.port2]);
    worker.on('message', (m: BatchMessage | EndMessage | StopMessage) => {
      if (m.type === 'stop') { fail(new ThreadStop(m.why, m.message, m.frame)); return; }
      if (m.type === 'batch') {
        // (a throw here would escape to the event loop: the spool's runs may find the temporary directory full)
        try { onBatch(w, m); } catch (e) { fail(e instanceof Error ? e : new Error(String(e))); return; }
        back.port1.postMessage(m.bytes, [m.bytes]);
      } else ends[w] = m;
      if (ends.every((e) => e !== null)) settle?.();
    });
    // A worker that reached its heap limit before its guard saw it coming ends with ERR_WORKER_OUT_OF_MEMORY.
    worker.on('error', (e) => fail((e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? new ThreadStop('memory', 'out of memory', 0) : e));
    worker.on('exit', (code) => { if (ends[w] === null && failure === null) fail(new Error(`analysis thread ${w} exited with code ${code}`)); });
    return [worker];
  });

  const k: Counters = { packets: 0, tcpPackets: 0, undecodable: {}, firstTime: null, lastTime: null, connections: 0, findings: {}, evicted: 0 };
  const pkt = newTcpPacket();
  const shard = opts.shard !== undefined && opts.shard.n > 1 ? opts.shard : null;
  const signal = opts.signal === undefined ? stopper.signal : AbortSignal.any([opts.signal, stopper.signal]);
  let sinceSweep = 0;
  // This thread's heap (the spool's run, the batches waiting): reading stops near its limit, as one session's does.
  const guard = heapGuard();
  let memory: CaptureError | null = null;
  let lastSec = 0;
  let lastNsec = 0;
  let result: SourceResult;
  try {
    result = await source.run((frame) => {
      if (failure !== null || memory !== null) return;
      try {
        k.packets++;
        const t = frame.tsSec + frame.tsNsec * 1e-9;
        if (k.firstTime === null) k.firstTime = t;
        if (k.lastTime === null || t > k.lastTime) { k.lastTime = t; lastSec = frame.tsSec; lastNsec = frame.tsNsec; }
        const status = decodeFrame(frame, pkt, false);
        if (status !== 'ok') { k.undecodable[status] = (k.undecodable[status] ?? 0) + 1; return; }
        k.tcpPackets++;
        if (shard === null || inShard(pkt, shard)) {
          const wr = writers[shares[threadOf(pkt, shares.length)] as number] as RingWriter | null;
          if (wr === null) (lane as Lane).frame(frame);
          else {
            const len = frame.capLength <= wr.maxFrame ? frame.capLength : cutFrame(frame, pkt, wr.maxFrame);
            if (len < 0) {
              fail(new ThreadStop('frame', `a TCP segment of ${frame.capLength} bytes whose length comes from the captured bytes (IP length 0: TSO or BIG TCP) is larger than the analysis threads take (${wr.maxFrame})`, frame.index));
              return;
            }
            wr.frame(frame.data, frame.dataOffset, len, frame.index, frame.tsSec, frame.tsNsec, frame.linkType, frame.wireLength, frame.interfaceId);
          }
        }
        // Where one session would sweep (AnalysisSession.ingest): after this segment, at its time.
        if (++sinceSweep >= SWEEP_EVERY) {
          sinceSweep = 0;
          for (const wr of ringWriters) wr.mark(KIND_BOUNDARY, frame.tsSec, frame.tsNsec);
          lane?.boundary(frame.tsSec, frame.tsNsec);
        }
        if ((k.packets & 0x3fff) === 0) {
          const full = guard();
          if (full !== null) { memory = new CaptureError('MEMORY', `${full} after frame ${frame.index}`, source.info.path, frame.fileOffset); stopper.abort(); }
        }
      } catch (e) {
        // A thread that stopped says why in its own message (handled when this chunk is done): just stop reading.
        if (e instanceof RingFailed) stopper.abort();
        else if (e instanceof LaneStop) fail(new ThreadStop(e.stop.why, e.stop.message, e.stop.frame));
        else fail(e instanceof Error ? e : new Error(String(e)));
      }
    }, signal);
    if (memory !== null && result.error === null) result.error = memory;
    // The end of input for every thread, unless one stopped (then its message ends the run). The reader's own lane
    // first: while it judges every connection it holds, this thread reads no message, so workers judging theirs at
    // the same time would have their batches wait in its queue (on the 10× longer bench capture, a peak of 419
    // against 311 MiB).
    if (failure === null && (!stopper.signal.aborted || memory !== null)) {
      try {
        if (lane !== null) ends[0] = lane.end(lastSec, lastNsec);
        for (const wr of ringWriters) wr.mark(KIND_END, lastSec, lastNsec);
      } catch (e) {
        if (e instanceof LaneStop) fail(new ThreadStop(e.stop.why, e.stop.message, e.stop.frame));
        else if (!(e instanceof RingFailed)) fail(e instanceof Error ? e : new Error(String(e)));
      }
    }
    await new Promise<void>((res) => { settle = res; if (failure !== null || ends.every((e) => e !== null)) res(); });
  } finally {
    for (const w of workers) void w.terminate();
    for (const b of backs) b.port1.close();
    tempRoot?.remove();
  }
  if (failure !== null) throw failure;

  ledger.seal();
  spool.ids = (line) => line.replace(LOCAL_ID, (_, w: string, local: string) => `c${ledger.global(Number(w), Number(local))}`);
  spool.globalId = (w, local) => ledger.global(w, local);
  const floods = new FloodTracker();
  const x = { handshakeOnly: 0, judgedEarly: 0, tombstones: 0 };
  ends.forEach((e, w) => {
    const m = e as EndMessage;
    floods.merge(m.floods);
    x.handshakeOnly += m.evictions.handshakeOnly; x.judgedEarly += m.evictions.judgedEarly; x.tombstones += m.evictions.tombstones;
    k.evicted += m.evicted;
    if (m.digest !== null && opts.digest) {
      // The digest's ids, also inside summaries and notes: through JSON, where the local tokens are escaped.
      opts.digest.merge(JSON.parse(spool.ids(JSON.stringify(m.digest))) as DigestRaw, seqOf(w));
    }
  });
  const loose = floods.findings();
  spool.addLoose(loose);
  opts.digest?.addLoose(loose);
  const evicted: Evictions = {
    maxConnections: Number.isFinite(cap) ? cap : null,
    total: x.handshakeOnly + x.judgedEarly, handshakeOnly: x.handshakeOnly, judgedEarly: x.judgedEarly, tombstones: x.tombstones,
  };
  const interrupted = memory === null && opts.signal?.aborted === true && (opts.interrupted?.() ?? false);
  const report: Report = {
    version: 1, tool: { name: 'teardown', version: VERSION }, capture: captureSummary(source, { counters: k }, result, interrupted), settings,
    summary: spool.summary(evicted), connections: [], findings: [],
    aggregates: spool.opts.json ? { servers: [], pairs: [] } : spool.aggregates(),
  };
  return { report, result };
}
