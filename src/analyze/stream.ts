import { CaptureError } from '../capture/types.js';
import type { Gate, PacketSource, RawFrame, SourceResult } from '../capture/types.js';
import { errorLine } from '../model/error-line.js';
import type { CaptureSummary, Report, Settings } from '../model/report.js';
import { heapGuard } from './memory.js';
import { AnalysisSession, type SessionOptions } from './session.js';
import { TempDirError } from './temp-dir.js';
import type { AnalysisSink } from './sink.js';

export interface StreamOptions extends SessionOptions {
  settings?: Partial<Settings>;
  sink: AnalysisSink;
  signal?: AbortSignal;
  /** Every frame, before the session sees it (e.g. the -w writer, a frame counter). Must copy what it keeps. */
  onFrame?(frame: RawFrame): void;
  /**
   * Clock for ticks while no packets arrive: returns "now" in epoch seconds, or null to skip this tick.
   * Without it the session ages on packet time only.
   */
  idleClock?: (session: AnalysisSession) => number | null;
  /** Called after every interval tick (about 1 s). */
  onInterval?(session: AnalysisSession): void;
  /** Packet-time seconds between ticks made from the frames themselves (default 1); null: none (offline report). */
  packetTickSeconds?: number | null;
  /** Stop when packet time reaches this (epoch seconds): --duration, checked per packet as well as on the timer. */
  deadline?: { at: number; stop(): void };
  tickMs?: number;
  /**
   * A frame that marks the end of the capture (live: the stop time), fed to onFrame and the session after the last
   * packet. Verdicts "at capture end" (a half-close's age) are then measured to the stop, in the report and in the
   * `-w` file read back offline alike (the same marker `extract` writes, src/extract/marker.ts).
   */
  endFrame?(index: number): RawFrame | null;
  /** Backpressure: while it returns a promise (the output is full), the source waits between chunks. */
  gate?: Gate;
  /**
   * Checked every 16 k frames: a message stops reading, and the report covers what was read (error code MEMORY).
   * Default: heapGuard() (80 % of V8's heap limit); null: never.
   */
  memoryGuard?: (() => string | null) | null;
  /** Whether a stop through `signal` was an interrupt (SIGINT/SIGTERM): the report is then marked interrupted. */
  interrupted?: () => boolean;
  /**
   * What the frames go to instead of one AnalysisSession made here from the options (live --threads: the analysis
   * threads, src/report/live-threads.ts). The sink then has no hooks; its tick(), progress() and the callbacks
   * get this object, of which they may use only LoopSession's members.
   */
  session?: LoopSession;
}

/** What the loop itself needs of a session. */
export interface LoopSession {
  readonly counters: AnalysisSession['counters'];
  ingest(frame: RawFrame): void;
  tick(now: number): void;
  captureLoss(n: number): void;
  finish(capture: CaptureSummary): Report | Promise<Report>;
}

/** The capture part of the report: what the source says about itself and what the session counted. */
export function captureSummary(source: PacketSource, session: Pick<AnalysisSession, 'counters'>, result: SourceResult | null, interrupted = false): CaptureSummary {
  const k = session.counters;
  const info = source.info;
  return {
    path: info.path, format: info.format, compressed: info.compressed, linkTypes: [...info.linkTypes],
    packets: k.packets, tcpPackets: k.tcpPackets, undecodable: { ...k.undecodable },
    firstTime: k.firstTime, lastTime: k.lastTime,
    truncated: result?.error != null || interrupted, interrupted, error: result?.error ? result.error.oneLine() : null,
    warnings: result ? [...result.warnings] : [], drops: info.drops,
  };
}

/** Frames between two sink.progress() calls (and memory checks). */
const PROGRESS_EVERY = 0x4000;

/**
 * The one analysis loop (analyze text/json/ndjson, live, the UI, check, extract): frames into one session; ticks
 * every second of packet time (checked per frame, so a busy capture still ages state) and on a wall clock while idle;
 * the sink hears findings as they are made, connections as they end, and progress every 16 k frames. Damage stops
 * reading; what was read is still judged. The caller hands the report to sink.end() (with its own extras).
 */
export async function streamAnalysis(source: PacketSource, opts: StreamOptions): Promise<{ report: Report; result: SourceResult; session: AnalysisSession }> {
  const sink = opts.sink;
  // A LoopSession passed in stands for the session: the loop uses its LoopSession members only.
  const session = opts.session === undefined ? new AnalysisSession(opts.settings, sink.hooks ?? {}, opts) : opts.session as AnalysisSession;
  // A live source tells the session when it lost frames: the connections open then are marked.
  if ('onLoss' in source) source.onLoss = (n) => session.captureLoss(n);
  const tick = (now: number): void => { if (sink.tick) sink.tick(session, now); else session.tick(now); };
  const onFrame = opts.onFrame;
  const onProgress = sink.progress?.bind(sink);
  const deadline = opts.deadline;
  let nextTick = opts.packetTickSeconds === null ? Infinity : -Infinity;
  const tickMs = opts.tickMs ?? 1000;
  const step = opts.packetTickSeconds ?? tickMs / 1000;
  // Reading also stops from inside: a frame the analysis fails on (a bug), or the heap nearing its limit. What was
  // read is still reported, with the reason as the capture's error.
  const stopper = new AbortController();
  const signal = opts.signal === undefined ? stopper.signal : AbortSignal.any([opts.signal, stopper.signal]);
  let stopped: CaptureError | null = null;
  const stopWith = (code: 'INTERNAL' | 'MEMORY' | 'TEMP_DIR', message: string, offset: number | null): void => {
    stopped ??= new CaptureError(code, message, source.info.path, offset);
    stopper.abort();
  };
  const memoryGuard = opts.memoryGuard === undefined ? heapGuard() : opts.memoryGuard;
  const timer = opts.idleClock === undefined && opts.onInterval === undefined ? null : setInterval(() => {
    if (stopped !== null) return;
    try {
      const now = opts.idleClock?.(session) ?? null;
      if (now !== null) {
        tick(now);
        nextTick = now + step;
        if (deadline !== undefined && now >= deadline.at) deadline.stop();
      }
      opts.onInterval?.(session);
    } catch (e) {
      if (e instanceof TempDirError) stopWith('TEMP_DIR', `${e.message}; reading stopped on a clock tick`, null);
      else stopWith('INTERNAL', `the analysis failed on a clock tick: ${errorLine(e)}`, null);
    }
  }, tickMs);
  let n = 0;
  try {
    const result = await source.run((frame) => {
      if (stopped !== null) return; // the rest of the chunk read before the stop
      try {
        onFrame?.(frame);
        session.ingest(frame);
        if ((++n & (PROGRESS_EVERY - 1)) === 0) {
          onProgress?.(session, source);
          const full = memoryGuard?.() ?? null;
          if (full !== null) stopWith('MEMORY', `${full} after frame ${frame.index}`, frame.fileOffset);
        }
        const t = frame.tsSec + frame.tsNsec * 1e-9;
        if (t >= nextTick) {
          if (nextTick !== -Infinity) tick(t);
          nextTick = t + step;
          if (deadline !== undefined && t >= deadline.at) deadline.stop();
        }
      } catch (e) {
        if (e instanceof TempDirError) stopWith('TEMP_DIR', `${e.message}; reading stopped at frame ${frame.index}`, frame.fileOffset);
        else stopWith('INTERNAL', `the analysis failed on frame ${frame.index}: ${errorLine(e)}`, frame.fileOffset);
      }
    }, signal, opts.gate);
    // A spill that could not be written has lost the record it was taking: no report is made of what was read.
    const stop = stopped as CaptureError | null; // (set in the callbacks above)
    if (stop?.code === 'TEMP_DIR') throw stop;
    if (stopped !== null && result.error === null) result.error = stopped;
    const interrupted = stopped === null && opts.signal?.aborted === true && (opts.interrupted?.() ?? false);
    if (stopped === null) {
      const end = opts.endFrame?.(session.counters.packets + 1) ?? null;
      if (end !== null) { onFrame?.(end); session.ingest(end); }
    }
    onProgress?.(session, source);
    let report: Report;
    try {
      report = await session.finish(captureSummary(source, session, result, interrupted));
    } catch (e) {
      // Judging what was read failed too: nothing can be reported; the first failure is the one to tell.
      throw stopped ?? e;
    }
    return { report, result, session };
  } finally {
    if (timer !== null) clearInterval(timer);
  }
}
