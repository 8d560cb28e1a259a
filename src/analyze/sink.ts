import type { Report } from '../model/report.js';
import type { AnalysisSession, SessionHooks } from './session.js';

/**
 * Where a streaming analysis reports to. NdjsonSink (src/report/ndjson.ts) is one; TextView (src/report/live-text.ts) is
 * the terminal fallback. The terminal UI (src/ui) plugs in here: an AnalysisSink that renders the header from stats() and the
 * findings/connections as they come, and the final report from end().
 */
export interface AnalysisSink {
  /** Passed to the AnalysisSession. */
  readonly hooks: SessionHooks;
  /** Clock tick: must call session.tick(now) (the view may mark what it announces as provisional). */
  tick(session: AnalysisSession, now: number): void;
  /** About once a second while running. */
  stats?(s: LiveStats): void;
  /** The final report, once (awaited: the UI may wait for the person to quit). */
  end(report: Report, extras: SummaryExtras): void | Promise<void>;
}

export interface LiveStats {
  interface: string;
  filter: string;
  packets: number;
  tcpPackets: number;
  /** Packets per second over the last interval. */
  rate: number;
  /** libpcap drop counter; null: cap does not expose pcap_stats. */
  drops: number | null;
  connectionsEnded: number;
  findings: number;
  elapsedSeconds: number;
}

/** Extra facts for the summary line that the Report does not carry. */
export interface SummaryExtras {
  /** Connections judged early because --max-connections was reached. */
  evicted?: number;
  /** Live capture: interface, filter, why it stopped, timestamps are arrival times, -w file… */
  live?: Record<string, unknown>;
}
