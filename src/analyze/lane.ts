/**
 * One analysis thread's share of `--threads N` (src/analyze/parallel.ts): its own streamed session over the tuples
 * the reader hashed to it, sweeps where the reader says (where one session would), and its judged connections (spool
 * records), the links between incarnations and the frames that opened connections handed on in batches; at the end
 * its SYN-flood targets, evictions and text digest. src/analyze/worker.ts runs one over a ring.
 */
import type { RawFrame } from '../capture/types.js';
import type { FloodRaw } from '../findings/syn-flood.js';
import type { Settings } from '../model/report.js';
import type { EvictionCounts } from '../tcp/flow-table.js';
import { TextDigest, type DigestRaw } from './digest.js';
import type { AnalysisSession } from './session.js';
import { SpoolBatch, type SpoolOptions } from './spool.js';
import { ThreadSession, type StopMessage } from './thread-session.js';

export interface LaneInput {
  settings: Settings;
  maxConnections: number;
  spool: SpoolOptions;
  /** Text report: keep a digest with this many findings per kind; null for JSON. */
  maxPerKind: number | null;
  /** This thread's number. */
  w: number;
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

export interface EndMessage { type: 'end'; floods: FloodRaw; evictions: EvictionCounts; evicted: number; digest: DigestRaw | null }

/** The lane stopped on a frame (StopMessage's facts): its thread says so and reads no more. */
export class LaneStop extends Error {
  constructor(readonly stop: StopMessage) { super(stop.message); }
}

/** Records handed on at once (and at every sweep). */
const BATCH = 512;

export class Lane {
  private readonly digest: TextDigest | null;
  private links: BatchMessage['links'] = [];
  private readonly target: SpoolBatch;
  private readonly thread: ThreadSession;
  private readonly session: AnalysisSession;
  /** At the end of input: a full batch goes out as soon as it is full. */
  private ending = false;

  /**
   * `post` takes each batch (its buffers change hands); `recycled` gives back, one at a time, the buffers of batches
   * already read; `guard` (every 4096 frames) names a heap near its limit.
   */
  constructor(input: LaneInput, private readonly post: (m: BatchMessage) => void,
    private readonly recycled: () => ArrayBuffer | undefined, guard: (() => string | null) | null) {
    const digest = this.digest = input.maxPerKind === null ? null : new TextDigest(input.maxPerKind);
    this.target = new SpoolBatch(input.spool, (seq, next, start) => { this.links.push([seq, next, start]); });
    // At the end of input every connection still open is judged at once (tens of thousands on a long capture): the
    // batch goes out whenever it is full then too, not as one buffer of all of them.
    this.thread = new ThreadSession(input.w, input.settings, {
      onJudged: (c, f, seq, v) => { digest?.add(c, f, seq, v); if (this.ending && this.target.size >= BATCH) this.flush(); },
    }, { spool: this.target, maxConnections: input.maxConnections }, guard, (m) => { throw new LaneStop(m); });
    this.session = this.thread.session;
  }

  /** A frame of this lane's tuples; throws LaneStop. */
  frame(frame: RawFrame): void {
    this.thread.frame(frame);
    if (this.target.size >= BATCH) this.flush();
  }

  /** A sweep at the reader's word; throws LaneStop when the temporary directory is full, missing or not writable. */
  boundary(tsSec: number, tsNsec: number): void {
    this.thread.mark(() => this.session.sweep(tsSec + tsNsec * 1e-9));
    this.flush();
  }

  /** The end of input at the capture's last time: every connection judged and handed on. */
  end(tsSec: number, tsNsec: number): EndMessage {
    this.ending = true;
    const session = this.session;
    this.thread.mark(() => session.endOfInput(tsSec + tsNsec * 1e-9));
    this.flush();
    return { type: 'end', floods: session.floodState(), evictions: { ...session.evictionCounts() }, evicted: session.counters.evicted, digest: this.digest?.raw() ?? null };
  }

  private flush(): void {
    const target = this.target;
    const thread = this.thread;
    if (target.size === 0 && this.links.length === 0 && thread.opens.length === 0) return;
    // Buffers handed back are picked up here, before the next batch starts.
    for (let b = this.recycled(); b !== undefined; b = this.recycled()) target.recycle(b);
    const { bytes, used, meta } = target.take();
    const msg: BatchMessage = { type: 'batch', bytes, used, meta, links: this.links, opens: Uint32Array.from(thread.opens) };
    this.links = []; thread.opens = [];
    this.post(msg);
  }
}
