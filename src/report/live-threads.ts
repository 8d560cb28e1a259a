/**
 * `teardown live --threads N` (N > 1, NDJSON output): the capture's thread decodes each frame far enough to hash its
 * inner TCP 4-tuple (as `analyze --threads` does, src/analyze/parallel.ts) and copies it into that analysis thread's
 * ring (src/report/live-thread-worker.ts) without ever waiting: a frame that finds the ring full is dropped and counted
 * with the capture ring's drops, and every thread hears of the loss (as one session does, captureLoss()). Sweeps
 * (every SWEEP_EVERY TCP segments), clock ticks (their time exactly) and the end go to every thread in frame order,
 * so every thread ages its state on the same clock as one session would. A loss is told to a thread before its next
 * frame, without waiting (while its ring is full, the loss waits with the frames it drops); sweeps, ticks and the end
 * are never dropped: for them the capture's thread waits for room (the capture thread goes on meanwhile, into the
 * capture ring).
 *
 * Each sweep or tick closes a round. Once every thread has sent its round, its lines are written: first those made
 * by packets, in frame order, then those made by the sweep or tick, in connection id order (a connection's findings
 * before its line). Connection ids are put back from the frames that opened connections: every frame up to the
 * round's last is in, so each thread's ordinals have their global rank ('c' + order of the connection's first
 * packet, as one session numbers them). Judged connections go into one ReportSpool for the summary line.
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { RawFrame } from '../capture/types.js';
import { decodeFrame } from '../decode/decode.js';
import { newTcpPacket } from '../decode/packet.js';
import { FloodTracker } from '../findings/syn-flood.js';
import { DEFAULT_SETTINGS } from '../model/settings.js';
import { VERSION } from '../model/version.js';
import type { CaptureSummary, Evictions, FindingKind, Report, Settings } from '../model/report.js';
import { writeFindingLine, type NdjsonBytes } from './ndjson.js';
import { inShard, threadOf, type Shard } from '../tcp/shard.js';
import type { LiveEndMessage, LiveWorkerInput, RoundMessage } from './live-thread-worker.js';
import type { StopMessage } from '../analyze/thread-session.js';
import { IdLedger, ThreadStop } from '../analyze/parallel.js';
import { startWorker } from '../analyze/start-worker.js';
import { KIND_BOUNDARY, KIND_END, KIND_LOSS, newRing, RingFailed, RingWriter } from '../analyze/ring.js';
import { DEFAULT_MAX_CONNECTIONS, SWEEP_EVERY, type Counters } from '../analyze/session.js';
import { ReportSpool } from '../analyze/spool.js';
import { TempDir } from '../analyze/temp-dir.js';

/** Bytes of each analysis thread's ring (frames wait there while the thread is busy; a full ring drops). */
export const LIVE_THREAD_RING = 16 << 20;

export interface LiveThreadsOptions {
  threads: number;
  settings?: Partial<Settings>;
  maxConnections?: number;
  shard?: Shard;
  ladders: 'all' | 'findings';
  /** Where the NDJSON lines go (the caller flushes it). */
  out: NdjsonBytes;
  ringBytes?: number;
  /** Wait for room in a full ring instead of dropping the frame (a source that can wait: a file, bench/live-cpu.ts). */
  wait?: boolean;
}


/** A thread's connection id in its JSON: 'c' + thread + '.' + ordinal between U+0001 and U+0002, escaped. */
const TOKEN = Buffer.from('\\u0001');

/**
 * What the analysis loop (src/analyze/stream.ts) drives in place of one AnalysisSession: ingest(), tick(),
 * captureLoss(), counters, and finish() (async: it waits for the threads to judge what is still open).
 */
export class ThreadedLiveSession {
  readonly counters: Counters = {
    packets: 0, tcpPackets: 0, undecodable: {}, firstTime: null, lastTime: null, connections: 0, findings: {}, evicted: 0,
  };
  /** Frames dropped because their thread's ring was full (the analysis behind), counted with the ring's drops. */
  drops = 0;
  readonly threads: number;
  private readonly settings: Settings;
  private readonly cap: number;
  private readonly writers: RingWriter[];
  private readonly workers: Worker[];
  /** The threads' temporary files, in one directory of this thread's: a terminated thread removes nothing itself. */
  private readonly tempRoot = new TempDir('teardown-threads-');
  private readonly backs: MessageChannel[];
  private readonly spool = new ReportSpool({ json: false });
  private readonly ledger: IdLedger;
  private readonly rounds: RoundMessage[][];
  /** The last frame index sent before each round's closing mark, oldest first. */
  private readonly marks: number[] = [];
  private readonly ends: (LiveEndMessage | null)[];
  private readonly totals: { connections: number; findings: Partial<Record<FindingKind, number>> }[];
  private readonly pkt = newTcpPacket();
  private readonly shard: Shard | null;
  private failure: Error | null = null;
  private settle: (() => void) | null = null;
  private sinceSweep = 0;
  private lastFrame = 0;
  private lastSec = 0;
  private lastNsec = 0;
  /** Per thread: frames lost (dropped here, or told by the source) not yet told to it (its ring was full). */
  private readonly lossDue: number[];
  private closed = false;
  private tokenEnd = 0;

  constructor(private readonly opts: LiveThreadsOptions) {
    const n = this.threads = Math.max(2, Math.floor(opts.threads));
    this.settings = { ...DEFAULT_SETTINGS, ...opts.settings };
    this.cap = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.shard = opts.shard !== undefined && opts.shard.n > 1 ? opts.shard : null;
    this.ledger = new IdLedger(n);
    this.lossDue = new Array<number>(n).fill(0);
    this.rounds = Array.from({ length: n }, () => []);
    this.ends = new Array<LiveEndMessage | null>(n).fill(null);
    this.totals = Array.from({ length: n }, () => ({ connections: 0, findings: {} }));
    const rings = Array.from({ length: n }, () => newRing(opts.ringBytes ?? LIVE_THREAD_RING));
    this.writers = rings.map((r) => new RingWriter(r));
    this.backs = rings.map(() => new MessageChannel());
    const tempRoot = this.tempRoot.path;
    this.workers = rings.map((ring, w) => {
      const back = (this.backs[w] as MessageChannel).port2;
      const input: LiveWorkerInput = { ring, settings: this.settings, maxConnections: Math.ceil(this.cap / n), spool: this.spool.opts, ladders: opts.ladders, w, back, tempRoot };
      const worker = startWorker(input, [back as MessagePort], new URL('./live-thread-worker', import.meta.url));
      worker.on('message', (m: RoundMessage | LiveEndMessage | StopMessage) => {
        if (m.type === 'stop') { this.fail(new ThreadStop(m.why, m.message, m.frame)); return; }
        if (m.type === 'round') { (this.rounds[w] as RoundMessage[]).push(m); this.drain(); } else this.ends[w] = m;
        if (this.ends.every((e) => e !== null)) this.settle?.();
      });
      worker.on('error', (e) => this.fail((e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? new ThreadStop('memory', 'out of memory', 0) : e));
      worker.on('exit', (code) => { if (this.ends[w] === null && this.failure === null) this.fail(new Error(`analysis thread ${w} exited with code ${code}`)); });
      return worker;
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.settle?.();
  }

  ingest(frame: RawFrame): void {
    if (this.failure !== null) throw this.failure;
    const k = this.counters;
    const t = frame.tsSec + frame.tsNsec * 1e-9;
    if (k.firstTime === null) k.firstTime = t;
    if (k.lastTime === null || t > k.lastTime) { k.lastTime = t; this.lastSec = frame.tsSec; this.lastNsec = frame.tsNsec; }
    this.lastFrame = frame.index;
    const pkt = this.pkt;
    const status = decodeFrame(frame, pkt, false);
    if (status !== 'ok') { k.packets++; k.undecodable[status] = (k.undecodable[status] ?? 0) + 1; return; }
    if (this.shard === null || inShard(pkt, this.shard)) {
      const n = this.threads;
      const w = threadOf(pkt, n);
      // A loss not yet told goes before the frame; while the ring has no room for either, both wait (the frame dropped).
      if (this.lossDue[w] !== 0 && !this.tellLoss(w)) { this.dropped(); return; }
      if (this.opts.wait === true) (this.writers[w] as RingWriter).frame(frame.data, frame.dataOffset, frame.capLength, frame.index, frame.tsSec, frame.tsNsec, frame.linkType, frame.wireLength, frame.interfaceId);
      else if (!(this.writers[w] as RingWriter).tryFrame(frame.data, frame.dataOffset, frame.capLength, frame.index, frame.tsSec, frame.tsNsec, frame.linkType, frame.wireLength, frame.interfaceId)) {
        this.dropped();
        return;
      }
    }
    k.packets++;
    k.tcpPackets++;
    // Where one session would sweep (AnalysisSession.ingest): after this segment, at its time.
    if (++this.sinceSweep >= SWEEP_EVERY) {
      this.sinceSweep = 0;
      this.tellLossesWaiting();
      this.marks.push(frame.index);
      for (const wr of this.writers) wr.mark(KIND_BOUNDARY, frame.tsSec, frame.tsNsec, frame.index);
    }
  }

  /**
   * A frame its thread had no room for (the thread is behind): lost like one the capture ring had no room for, and
   * every thread hears of it before its next frame, as one session would (captureLoss()).
   */
  private dropped(): void {
    this.drops++;
    for (let w = 0; w < this.threads; w++) this.lossDue[w] = (this.lossDue[w] as number) + 1;
  }

  /** The clock: every thread ages its state at `now` (waiting for room: ticks are never dropped). */
  tick(now: number): void {
    if (this.failure !== null) throw this.failure;
    this.tellLossesWaiting();
    this.marks.push(this.lastFrame);
    for (const wr of this.writers) wr.tick(now, this.lastFrame);
  }

  captureLoss(n: number): void {
    if (!(n > 0)) return;
    for (let w = 0; w < this.threads; w++) this.lossDue[w] = (this.lossDue[w] as number) + n;
    this.tellLosses();
  }

  /** Tells thread w the frames lost since, if its ring has room now (never waits). */
  private tellLoss(w: number): boolean {
    const ok = (this.writers[w] as RingWriter).tryMark(KIND_LOSS, this.lossDue[w] as number, 0, this.lastFrame);
    if (ok) this.lossDue[w] = 0;
    return ok;
  }

  private tellLosses(): void {
    for (let w = 0; w < this.threads; w++) if (this.lossDue[w] !== 0) this.tellLoss(w);
  }

  /** Before a mark that waits for room: the losses go first, waiting too. */
  private tellLossesWaiting(): void {
    for (let w = 0; w < this.threads; w++) {
      if (this.lossDue[w] === 0) continue;
      (this.writers[w] as RingWriter).mark(KIND_LOSS, this.lossDue[w] as number, 0, this.lastFrame);
      this.lossDue[w] = 0;
    }
  }

  /** Rounds every thread has sent: their lines written, their judged connections into the spool. */
  private drain(): void {
    while (this.rounds.every((q) => q.length > 0) && this.marks.length > 0) {
      const round = this.rounds.map((q) => q.shift() as RoundMessage);
      this.write(round, this.marks.shift() as number);
    }
  }

  private write(round: RoundMessage[], upTo: number): void {
    const n = this.threads;
    const ledger = this.ledger;
    round.forEach((m, w) => ledger.append(w, m.opens));
    ledger.advance(upTo);
    const bufs = round.map((m) => Buffer.from(m.lines, 0, m.used));
    // Lines made by packets: frame order (each frame's lines come from the one thread that holds its tuple).
    const at = new Array<number>(n).fill(0);
    for (;;) {
      let best = -1;
      let min = Infinity;
      for (let w = 0; w < n; w++) {
        const s = (round[w] as RoundMessage).segs;
        const i = at[w] as number;
        if (i < s.length && (s[i + 2] as number) < min) { min = s[i + 2] as number; best = w; }
      }
      if (best < 0) break;
      const s = (round[best] as RoundMessage).segs;
      const i = at[best] as number;
      this.emit(bufs[best] as Buffer, s[i] as number, s[i + 1] as number);
      at[best] = i + 3;
    }
    // Lines made by the mark: connection id order, a connection's lines in the order they were made.
    const marked: { id: number; w: number; at: number; end: number }[] = [];
    round.forEach((m, w) => {
      const b = bufs[w] as Buffer;
      for (let p = m.markAt; p < m.used;) {
        const e = b.indexOf(0x0a, p) + 1;
        const t = b.indexOf(TOKEN, p);
        marked.push({ id: t < 0 || t >= e ? 0 : this.token(b, t, true), w, at: p, end: e });
        p = e;
      }
    });
    // Stable: a connection's lines stay in the order its thread made them.
    marked.sort((a, b) => a.id - b.id || a.w - b.w || a.at - b.at);
    for (const x of marked) this.emit(bufs[x.w] as Buffer, x.at, x.end);
    // Judged connections for the summary line.
    const k = this.counters;
    round.forEach((m, w) => {
      const seq = (local: number): number => local * n + w;
      if (m.batch !== null) {
        this.spool.addBatch(Buffer.from(m.batch.bytes, 0, m.batch.used), m.batch.meta, seq);
        (this.backs[w] as MessageChannel).port1.postMessage(m.batch.bytes, [m.batch.bytes]);
      }
      for (const [s, next, start] of m.links) this.spool.link(seq(s), next, start);
      this.totals[w] = { connections: m.connections, findings: m.findings };
    });
    k.connections = 0;
    const f: Partial<Record<FindingKind, number>> = {};
    for (const t of this.totals) {
      k.connections += t.connections;
      for (const [kind, c] of Object.entries(t.findings)) f[kind as FindingKind] = (f[kind as FindingKind] ?? 0) + (c ?? 0);
    }
    k.findings = f;
  }

  /** End of the token at `t` (or, with `rank`, the global ordinal it stands for). */
  private token(b: Buffer, t: number, rank: boolean): number {
    let i = t + TOKEN.length;
    let w = 0;
    for (let c = b[i] as number; c !== 0x2e; c = b[++i] as number) w = w * 10 + c - 0x30;
    let local = 0;
    for (let c = b[++i] as number; c !== 0x5c; c = b[++i] as number) local = local * 10 + c - 0x30;
    this.tokenEnd = i + TOKEN.length;
    return rank ? this.ledger.global(w, local) : 0;
  }

  /** Bytes [at, end) of a round's lines to the output, thread-local ids replaced by the final ones. */
  private emit(b: Buffer, at: number, end: number): void {
    const out = this.opts.out;
    const w = out.w;
    for (let p = at; ;) {
      const t = b.indexOf(TOKEN, p);
      const stop = t < 0 || t >= end ? end : t;
      w.room(stop - p + 16);
      w.buf.set(b.subarray(p, stop), w.n);
      w.n += stop - p;
      if (stop === end) break;
      w.ascii(`c${this.token(b, t, true)}`);
      p = this.tokenEnd;
    }
    out.lineDone();
  }

  /** The analysis threads' CPU seconds, once finished (Linux). */
  get threadCpu(): (number | null)[] {
    return this.ends.map((e) => e?.cpu ?? null);
  }

  /**
   * End of input: every thread judges what it still holds at the last frame's time; once their last rounds are
   * written, the SYN-flood findings and the report (summary and aggregates; the lists are empty, as streamed).
   */
  async finish(capture: CaptureSummary): Promise<Report> {
    try {
      if (this.failure === null) {
        this.marks.push(this.lastFrame);
        try {
          this.tellLossesWaiting();
          for (const wr of this.writers) wr.mark(KIND_END, this.lastSec, this.lastNsec, this.lastFrame);
        } catch (e) {
          if (!(e instanceof RingFailed)) throw e;
        }
        await new Promise<void>((res) => { this.settle = res; if (this.failure !== null || this.ends.every((e) => e !== null)) res(); });
      }
      if (this.failure !== null) throw this.failure;
      this.drain();
    } finally {
      for (const w of this.workers) void w.terminate();
      for (const b of this.backs) b.port1.close();
      this.tempRoot.remove();
    }
    const k = this.counters;
    const floods = new FloodTracker();
    const x = { handshakeOnly: 0, judgedEarly: 0, tombstones: 0 };
    k.evicted = 0;
    for (const e of this.ends as LiveEndMessage[]) {
      floods.merge(e.floods);
      x.handshakeOnly += e.evictions.handshakeOnly; x.judgedEarly += e.evictions.judgedEarly; x.tombstones += e.evictions.tombstones;
      k.evicted += e.evicted;
    }
    const loose = floods.findings();
    for (const f of loose) k.findings[f.kind] = (k.findings[f.kind] ?? 0) + 1;
    for (const f of loose) { writeFindingLine(this.opts.out.w, f); this.opts.out.lineDone(); }
    this.spool.addLoose(loose);
    const evicted: Evictions = {
      maxConnections: Number.isFinite(this.cap) ? this.cap : null,
      total: x.handshakeOnly + x.judgedEarly, handshakeOnly: x.handshakeOnly, judgedEarly: x.judgedEarly, tombstones: x.tombstones,
    };
    const report: Report = {
      version: 1, tool: { name: 'teardown', version: VERSION }, capture, settings: this.settings,
      summary: this.spool.summary(evicted), connections: [], findings: [], aggregates: this.spool.aggregates(),
    };
    this.close();
    return report;
  }

  /** Stops the threads (a run that ends without finish(); safe after it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) void w.terminate();
    for (const b of this.backs) b.port1.close();
    this.tempRoot.remove();
    this.spool.close();
  }
}
