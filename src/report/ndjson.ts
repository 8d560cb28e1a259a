import type { ConnectionReport, Finding, Report } from '../model/report.js';
import type { SessionHooks } from '../analyze/session.js';
import type { SummaryExtras } from '../analyze/sink.js';
import { aggregatesJson, ladderLeftOut } from '../model/json.js';
import { JsonBytes, writeConnectionJson, writeFindingJson } from '../model/json-bytes.js';
import { jsonConnection } from './json.js';

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
  return JSON.stringify({ type: 'connection', ...jsonConnection(c, opts.ladders === 'all') }) + '\n';
}

/**
 * findingLine(f, final) written as UTF-8 bytes at the end of `w` (the same bytes): the finding's JSON from the byte
 * writer, its opening brace turned into the comma after `"type"`, its closing one after `"final"`.
 */
export function writeFindingLine(w: JsonBytes, f: Finding, final = true): void {
  // A SYN flood's finding is not the judge's (src/findings/syn-flood.ts): one per flood target, at the end.
  if (f.kind === 'syn-flood') { w.any({ type: 'finding', ...f, final }); w.ascii('\n'); return; }
  w.ascii('{"type":"finding"');
  const brace = w.n;
  writeFindingJson(w, f);
  w.buf[brace] = 0x2c;
  w.n--;
  w.ascii(final ? ',"final":true}\n' : ',"final":false}\n');
}

/** connectionLine(c, opts) written as UTF-8 bytes at the end of `w` (the same bytes). */
export function writeConnectionLine(w: JsonBytes, c: ConnectionReport, opts: NdjsonOptions = {}): void {
  w.ascii('{"type":"connection"');
  const brace = w.n;
  writeConnectionJson(w, c, ladderLeftOut(c, opts.ladders === 'all'));
  w.buf[brace] = 0x2c;
  w.ascii('\n');
}

/**
 * NDJSON lines gathered as bytes and written together (a write per line is a system call each, and the lines' text
 * would be made only to be encoded): out() gets a copy once `limit` bytes wait, and at each flush() by the caller.
 */
export class NdjsonBytes {
  readonly w: JsonBytes;
  constructor(
    private readonly out: (chunk: string | Uint8Array) => void,
    private readonly limit = 1 << 16,
  ) {
    this.w = new JsonBytes(limit + (limit >> 1));
  }

  /** After a line: writes what waits once past the limit. */
  lineDone(): void {
    if (this.w.n >= this.limit) this.flush();
  }

  /** A line made as text (the summary): after the bytes waiting. */
  text(line: string): void {
    this.flush();
    this.out(line);
  }

  flush(): void {
    const w = this.w;
    if (w.n === 0) return;
    // A copy: a pipe's write may still hold the chunk when the buffer is reused.
    const chunk = Buffer.from(w.buf.subarray(0, w.n));
    w.n = 0;
    // A line far past the limit (a connection's ladder of thousands of packets) grew the buffer: not kept that big.
    if (w.buf.length > 8 * this.limit) w.buf = new Uint8Array(this.limit + (this.limit >> 1));
    this.out(chunk);
  }
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
 * Streams a session's findings and ended connections as NDJSON lines: through `write` a line at a time as text, or
 * into an NdjsonBytes as bytes (the same lines; the caller flushes it). Pass `hooks` to the AnalysisSession; call
 * `tick(session, now)` for clock ticks (its findings are marked final=false) and `end()` with the final report.
 */
export class NdjsonSink {
  readonly hooks: SessionHooks;
  findings = 0;
  connections = 0;
  private ticking = false;
  /** Findings heard during a tick, held until we know whether their connection ended in that tick. */
  private readonly pending: Finding[] = [];

  private readonly writeFinding: (f: Finding, final: boolean) => void;
  private readonly writeText: (line: string) => void;

  constructor(
    out: ((line: string) => void) | NdjsonBytes,
    opts: NdjsonOptions = {},
  ) {
    let writeConnection: (c: ConnectionReport) => void;
    if (out instanceof NdjsonBytes) {
      const w = out.w;
      this.writeFinding = (f, final) => { writeFindingLine(w, f, final); out.lineDone(); };
      writeConnection = (c) => { writeConnectionLine(w, c, opts); out.lineDone(); };
      this.writeText = (line) => out.text(line);
    } else {
      this.writeFinding = (f, final) => out(findingLine(f, final));
      writeConnection = (c) => out(connectionLine(c, opts));
      this.writeText = out;
    }
    this.hooks = {
      onFinding: (f) => {
        this.findings++;
        if (this.ticking) this.pending.push(f);
        else this.writeFinding(f, true);
      },
      onConnectionEnd: (c) => {
        this.connections++;
        // The session reports a retired connection's findings, then the connection: those are final.
        this.flushPending(c.id, true);
        writeConnection(c);
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
    this.writeText(summaryLine(report, extras));
  }

  private flushPending(connection: string | null, final: boolean): void {
    if (this.pending.length === 0) return;
    const keep: Finding[] = [];
    for (const f of this.pending) {
      if (connection === null || f.connection === connection) this.writeFinding(f, final);
      else keep.push(f);
    }
    this.pending.length = 0;
    this.pending.push(...keep);
  }
}
