import type { ConnectionReport, Finding, Report } from '../model/report.js';
import type { SessionHooks } from '../analyze/session.js';
import type { SummaryExtras } from '../analyze/sink.js';
import { aggregatesJson, connectionJson } from '../model/json.js';

/**
 * NDJSON stream (`teardown live` without a terminal, `teardown analyze --ndjson`): one JSON object per line,
 * written as things happen.
 *
 *   {"type":"finding", ...Finding, "final": true|false}   when a finding is made. final=false: announced on the
 *       clock while the connection is still open (a half-close that became stuck); its connection line, with the
 *       final verdict, comes when the connection ends.
 *   {"type":"connection", ...ConnectionReport}            when a connection is judged and leaves the table.
 *       `ladder` is kept only for connections with findings unless ladders='all' (as --json does).
 *   {"type":"summary", tool, capture, settings, summary, aggregates, evicted, live?}   last line.
 *
 * The objects are the Report model's (src/model/report.ts), endpoints as text; nothing here recomputes a verdict.
 */

export interface NdjsonOptions {
  ladders?: 'all' | 'findings';
}

export function findingLine(f: Finding, final = true): string {
  return JSON.stringify({ type: 'finding', ...f, final }) + '\n';
}

export function connectionLine(c: ConnectionReport, opts: NdjsonOptions = {}): string {
  const keep = opts.ladders === 'all' || c.findings.length > 0;
  return JSON.stringify({ type: 'connection', ...connectionJson(c), ladder: keep ? c.ladder : [] }) + '\n';
}

export function summaryLine(r: Report, extras: SummaryExtras = {}): string {
  const line: Record<string, unknown> = {
    type: 'summary', tool: r.tool, capture: r.capture, settings: r.settings, summary: r.summary,
    aggregates: aggregatesJson(r.aggregates), evicted: extras.evicted ?? 0,
  };
  if (extras.live !== undefined) line.live = extras.live;
  return JSON.stringify(line) + '\n';
}

/**
 * Streams a session's findings and ended connections as NDJSON lines through `write`. Pass `hooks` to the
 * AnalysisSession; call `tick(session, now)` for clock ticks (its findings are marked final=false) and `end()`
 * with the final report.
 */
export class NdjsonSink {
  readonly hooks: SessionHooks;
  findings = 0;
  connections = 0;
  private ticking = false;
  /** Findings heard during a tick, held until we know whether their connection ended in that tick. */
  private readonly pending: Finding[] = [];

  constructor(
    private readonly write: (line: string) => void,
    private readonly opts: NdjsonOptions = {},
  ) {
    this.hooks = {
      onFinding: (f) => {
        this.findings++;
        if (this.ticking) this.pending.push(f);
        else this.write(findingLine(f, true));
      },
      onConnectionEnd: (c) => {
        this.connections++;
        // The session reports a retired connection's findings, then the connection: those are final.
        this.flushPending(c.id, true);
        this.write(connectionLine(c, this.opts));
      },
    };
  }

  /**
   * session.tick(now). Findings of connections the tick retires are final; the others it announces (half-closes
   * that became stuck while their connection is still open) are marked final=false.
   */
  tick(session: { tick(now: number): void }, now: number): void {
    this.ticking = true;
    try {
      session.tick(now);
    } finally {
      this.ticking = false;
      this.flushPending(null, false);
    }
  }

  end(report: Report, extras: SummaryExtras = {}): void {
    this.write(summaryLine(report, extras));
  }

  private flushPending(connection: string | null, final: boolean): void {
    if (this.pending.length === 0) return;
    const keep: Finding[] = [];
    for (const f of this.pending) {
      if (connection === null || f.connection === connection) this.write(findingLine(f, final));
      else keep.push(f);
    }
    this.pending.length = 0;
    this.pending.push(...keep);
  }
}
