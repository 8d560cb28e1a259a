import type { PacketSource } from '../capture/types.js';
import type { Report } from '../model/report.js';
import type { AnalysisSession, SessionHooks } from './session.js';

/**
 * Where the analysis loop (src/analyze/stream.ts) reports to. NdjsonSink (src/report/ndjson.ts) streams lines;
 * TextView (src/report/live-text.ts) is the terminal fallback of `live`; the UI store (src/ui/store.ts) and its live
 * view (src/ui/live-view.tsx) render the header from stats()/progress() and the findings/connections as they come;
 * `analyze --text/--json` print the final report in end(). Every member is optional.
 */
export interface AnalysisSink {
  /** Passed to the AnalysisSession. */
  readonly hooks?: SessionHooks;
  /** Clock tick: must call session.tick(now) (the sink may mark what it announces as provisional). Default: session.tick(now). */
  tick?(session: AnalysisSession, now: number): void;
  /** Every 16 k frames and once at the end of input (the counters are a live object: read, do not keep a copy). */
  progress?(session: AnalysisSession, source: PacketSource): void;
  /** About once a second while running. */
  stats?(s: LiveStats): void;
  /** The final report, once (awaited: the UI may wait for the person to quit). */
  end?(report: Report, extras: SummaryExtras): void | Promise<void>;
}

export interface LiveStats {
  interface: string;
  filter: string;
  packets: number;
  tcpPackets: number;
  /** Packets per second over the last interval. */
  rate: number;
  /** Frames lost (libpcap's kernel and interface drops + ring drops, or the estimate); null: not known. */
  drops: number | null;
  /** Where the drops come from: libpcap's counters, or an estimate from the interface's counters. */
  dropsSource: 'libpcap' | 'estimate' | null;
  connectionsEnded: number;
  findings: number;
  elapsedSeconds: number;
}

/** Extra facts for the summary line that the Report does not carry. */
export interface SummaryExtras {
  /** Connections judged early because --max-connections was reached. */
  evicted?: number;
  /** Live capture: interface, filter, why it stopped, timestamps (kernel or arrival), drops, -w file… */
  live?: Record<string, unknown>;
}
