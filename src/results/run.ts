import type { CaptureSummary, Report, Settings } from '../model/report.js';
import type { Shard } from '../tcp/shard.js';

/** run.json: what was analyzed, how, and the run's counts (docs/results-format.md). */
export interface RunInfo {
  schema: number;
  tool: { name: 'teardown'; version: string };
  /** Host or capture label (--label; default: the capture file's name). */
  label: string;
  capture: CaptureSummary;
  settings: Settings;
  /** This run's part of the capture: connections whose 4-tuple hash modulo n is k; null = all. */
  shard: (Shard & { otherShardPackets: number }) | null;
  /** Rows in the two Parquet files. */
  counts: { connections: number; findings: number };
  /**
   * Mergeable aggregate state: per run sums. The summary of many runs is the sum of theirs (shards of one capture
   * included); per-server and per-pair aggregates are computed by DuckDB over the connection rows
   * (src/results/aggregates.ts), since distinct client ports and ports held at once do not add up across runs.
   */
  summary: Report['summary'];
  /** With --json ladders: 'findings' keeps packet ladders only for connections with findings. */
  ladders: 'all' | 'findings';
  /** When the run was written (ISO 8601). */
  written: string;
}

export function shardText(s: Shard | null): string | null {
  return s === null ? null : `${s.k}/${s.n}`;
}
