import { openCapture } from '../capture/open.js';
import type { PacketSource, SourceResult } from '../capture/types.js';
import type { CaptureSummary, Report, Settings } from '../model/report.js';
import { AnalysisSession, type SessionHooks, type SessionOptions } from './session.js';

export interface AnalyzeOptions extends SessionOptions {
  settings?: Partial<Settings>;
  hooks?: SessionHooks;
  signal?: AbortSignal;
  /** Called with the session after every chunk (throttle on the caller's side). */
  onProgress?(session: AnalysisSession, source: PacketSource): void;
}

export function captureSummary(source: PacketSource, session: AnalysisSession, result: SourceResult | null): CaptureSummary {
  const k = session.counters;
  const info = source.info;
  return {
    path: info.path, format: info.format, compressed: info.compressed, linkTypes: [...info.linkTypes],
    packets: k.packets, tcpPackets: k.tcpPackets, undecodable: { ...k.undecodable },
    firstTime: k.firstTime, lastTime: k.lastTime,
    truncated: result?.error != null, error: result?.error ? result.error.oneLine() : null,
    warnings: result ? [...result.warnings] : [], drops: info.drops,
  };
}

/** Read a source to its end through one session. Damage stops reading; what was read is still judged. */
export async function analyzeSource(source: PacketSource, opts: AnalyzeOptions = {}): Promise<{ report: Report; result: SourceResult }> {
  const session = new AnalysisSession(opts.settings, opts.hooks, opts);
  const onProgress = opts.onProgress;
  let n = 0;
  const result = await source.run((frame) => {
    session.ingest(frame);
    if (onProgress !== undefined && (++n & 0x3fff) === 0) onProgress(session, source);
  }, opts.signal);
  onProgress?.(session, source);
  return { report: session.finish(captureSummary(source, session, result)), result };
}

/** Analyze a capture file ('-' for standard input). Rejects only with CaptureError('UNREADABLE') when it cannot be opened. */
export async function analyzeFile(path: string, opts: AnalyzeOptions = {}): Promise<{ report: Report; result: SourceResult }> {
  return analyzeSource(await openCapture(path), opts);
}
