import type { ReportSpool } from '../analyze/spool.js';
import { aggregateJson, connectionJson, type ConnectionJson } from '../model/json.js';
import type { ConnectionReport, Report } from '../model/report.js';

export interface JsonOptions {
  /** Packet ladders for all connections, or only for those with findings (default). */
  ladders?: 'all' | 'findings';
}

/**
 * `--json`: the Report as one object (docs/json-format.md), written in pieces so a capture with hundreds of
 * thousands of connections never becomes one giant string: top-level fields indented, then one connection and
 * one finding per line (grep-friendly, still one valid JSON document).
 */
export function* jsonChunks(r: Report, opts: JsonOptions = {}): Generator<string> {
  const all = opts.ladders === 'all';
  yield jsonHead(r);
  yield* jsonList('connections', r.connections, (c) => jsonConnection(c, all));
  yield* jsonList('findings', r.findings, (f) => f);
  yield* jsonAggregates(r.aggregates);
  yield '\n}\n';
}

/**
 * `--json` of a streamed analysis: the same document, byte for byte, with the connections and findings read back
 * in order from the spool the session wrote them to (the aggregates are folded while the connections go out).
 */
export function* jsonSpoolChunks(r: Report, spool: ReportSpool): Generator<string> {
  yield jsonHead(r);
  yield* rawList('connections', spool.connectionLines());
  yield* rawList('findings', spool.findingLines());
  yield* jsonAggregates(spool.aggregates());
  yield '\n}\n';
}

function* rawList(k: string, items: Iterable<string>): Generator<string> {
  const l = new JsonList(k);
  let buf = l.open();
  for (const x of items) {
    buf += l.raw(x);
    if (buf.length > 1 << 16) { yield buf; buf = ''; }
  }
  yield buf + l.close(true);
}

const field = (k: string, v: unknown) => `  ${JSON.stringify(k)}: ${JSON.stringify(v, null, 2).replace(/\n/g, '\n  ')},\n`;

/** The object's opening and the fields before `connections`. */
export function jsonHead(r: Pick<Report, 'version' | 'tool' | 'capture' | 'settings' | 'summary'>): string {
  return '{\n' + field('version', r.version) + field('tool', r.tool) + field('capture', r.capture) + field('settings', r.settings) + field('summary', r.summary);
}

// A ladder left out counts as elided packets, as when the session never built it (past LADDER_ALL_LIMIT connections).
export function jsonConnection(c: ConnectionReport, allLadders: boolean): ConnectionJson {
  const j = connectionJson(c);
  if (!(allLadders || c.findings.length > 0 || c.ladder.length === 0)) { j.ladder = []; j.elided = c.elided + c.ladder.length; }
  return j;
}

/** An array field written an item at a time, one per line (`open`, `item` per element, `close`). */
export class JsonList {
  private empty = true;
  constructor(private readonly key: string, private readonly indent = '  ') {}
  open(): string { return `${this.indent}${JSON.stringify(this.key)}: [`; }
  item(x: unknown): string {
    return this.raw(JSON.stringify(x));
  }
  /** An element already written as JSON. */
  raw(json: string): string {
    const s = `${this.empty ? '\n' : ',\n'}${this.indent}  ${json}`;
    this.empty = false;
    return s;
  }
  close(comma = true): string { return `${this.empty ? '' : `\n${this.indent}`}]${comma ? ',' : ''}\n`; }
}

function* jsonList<T>(k: string, items: Iterable<T>, map: (x: T) => unknown, comma = true, indent = '  '): Generator<string> {
  const l = new JsonList(k, indent);
  let buf = l.open();
  for (const x of items) {
    buf += l.item(map(x));
    if (buf.length > 1 << 16) { yield buf; buf = ''; }
  }
  yield buf + l.close(comma);
}

/** The `aggregates` field, up to its closing brace (the object's end or further fields follow). */
export function* jsonAggregates(a: Report['aggregates']): Generator<string> {
  // Aggregates can hold a row per client host: one row per line, like connections.
  yield '  "aggregates": {\n';
  yield* jsonList('servers', a.servers, aggregateJson, true, '    ');
  yield* jsonList('pairs', a.pairs, aggregateJson, false, '    ');
  yield '  }';
}
