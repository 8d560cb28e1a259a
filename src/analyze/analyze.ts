import { openCapture } from '../capture/open.js';
import type { PacketSource, SourceResult } from '../capture/types.js';
import type { Report, Settings } from '../model/report.js';
import type { AnalysisSession, SessionHooks, SessionOptions } from './session.js';
import type { AnalysisSink } from './sink.js';
import { streamAnalysis } from './stream.js';

export { captureSummary } from './stream.js';

export interface AnalyzeOptions extends SessionOptions {
  settings?: Partial<Settings>;
  hooks?: SessionHooks;
  signal?: AbortSignal;
  /** Called with the session after every chunk (throttle on the caller's side). */
  onProgress?(session: AnalysisSession, source: PacketSource): void;
}

/** Read a source to its end through one session (the one loop, without clock ticks). Damage stops reading; what was read is still judged. */
export async function analyzeSource(source: PacketSource, opts: AnalyzeOptions = {}): Promise<{ report: Report; result: SourceResult }> {
  const onProgress = opts.onProgress;
  const sink: AnalysisSink = {
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
    ...(onProgress ? { progress: (session: AnalysisSession, src: PacketSource) => onProgress(session, src) } : {}),
  };
  const { report, result } = await streamAnalysis(source, { ...opts, sink, packetTickSeconds: null });
  return { report, result };
}

/** Analyze a capture file ('-' for standard input). Rejects only with CaptureError('UNREADABLE') when it cannot be opened. */
export async function analyzeFile(path: string, opts: AnalyzeOptions = {}): Promise<{ report: Report; result: SourceResult }> {
  return analyzeSource(await openCapture(path), opts);
}
