import type { PacketSource, RawFrame, SourceResult } from '../capture/types.js';
import type { Report, Settings } from '../model/report.js';
import { captureSummary } from './analyze.js';
import { AnalysisSession } from './session.js';
import type { AnalysisSink } from './sink.js';

export interface StreamOptions {
  settings?: Partial<Settings>;
  maxConnections?: number;
  view: AnalysisSink;
  signal?: AbortSignal;
  /** Every frame, before the session sees it (e.g. the -w writer). Must copy what it keeps. */
  onFrame?(frame: Parameters<Parameters<PacketSource['run']>[0]>[0]): void;
  /**
   * Clock for ticks while no packets arrive: returns "now" in epoch seconds, or null to skip this tick.
   * Without it the session ages on packet time only.
   */
  idleClock?: (session: AnalysisSession) => number | null;
  /** Called after every interval tick (about 1 s). */
  onInterval?(session: AnalysisSession): void;
  /** Packet-time seconds between ticks made from the frames themselves (default 1). */
  packetTickSeconds?: number;
  /** Stop when packet time reaches this (epoch seconds): --duration, checked per packet as well as on the timer. */
  deadline?: { at: number; stop(): void };
  tickMs?: number;
  /**
   * A frame that marks the end of the capture (live: the stop time), fed to onFrame and the session after the last
   * packet. Verdicts "at capture end" (a half-close's age) are then measured to the stop, in the report and in the
   * `-w` file read back offline alike (the same marker `extract` writes, src/extract/marker.ts).
   */
  endFrame?(index: number): RawFrame | null;
}

/**
 * The streaming loop shared by `live` and `analyze --ndjson`: frames into one session; ticks every second of packet
 * time (checked per frame, so a busy capture still ages state) and on a wall clock while idle; the view hears
 * findings as they are made and connections as they end.
 */
export async function streamAnalysis(source: PacketSource, opts: StreamOptions): Promise<{ report: Report; result: SourceResult; session: AnalysisSession }> {
  const view = opts.view;
  const session = new AnalysisSession(opts.settings, view.hooks, { maxConnections: opts.maxConnections });
  const onFrame = opts.onFrame;
  const deadline = opts.deadline;
  let nextTick = -Infinity;
  const tickMs = opts.tickMs ?? 1000;
  const step = opts.packetTickSeconds ?? tickMs / 1000;
  const timer = setInterval(() => {
    const now = opts.idleClock?.(session) ?? null;
    if (now !== null) {
      view.tick(session, now);
      nextTick = now + step;
      if (deadline !== undefined && now >= deadline.at) deadline.stop();
    }
    opts.onInterval?.(session);
  }, tickMs);
  try {
    const result = await source.run((frame) => {
      onFrame?.(frame);
      session.ingest(frame);
      const t = frame.tsSec + frame.tsNsec * 1e-9;
      if (t >= nextTick) {
        if (nextTick !== -Infinity) view.tick(session, t);
        nextTick = t + step;
        if (deadline !== undefined && t >= deadline.at) deadline.stop();
      }
    }, opts.signal);
    const end = opts.endFrame?.(session.counters.packets + 1) ?? null;
    if (end !== null) { onFrame?.(end); session.ingest(end); }
    return { report: session.finish(captureSummary(source, session, result)), result, session };
  } finally {
    clearInterval(timer);
  }
}
