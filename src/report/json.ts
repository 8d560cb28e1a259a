import type { Report } from '../model/report.js';

export interface JsonOptions {
  /** Packet ladders for all connections, or only for those with findings (default). */
  ladders?: 'all' | 'findings';
}

/**
 * `--json`: the Report as one object (docs/json-format.md), written in pieces so a capture with hundreds of
 * thousands of connections never becomes one giant string: top-level fields indented, then one connection and
 * one finding per line (grep-friendly, still one valid JSON document).
 */
// A ladder left out counts as elided packets, as when the session never built it (past LADDER_ALL_LIMIT connections).
export function* jsonChunks(r: Report, opts: JsonOptions = {}): Generator<string> {
  const all = opts.ladders === 'all';
  const field = (k: string, v: unknown, last = false) =>
    `  ${JSON.stringify(k)}: ${JSON.stringify(v, null, 2).replace(/\n/g, '\n  ')}${last ? '\n' : ',\n'}`;
  function* list<T>(k: string, items: T[], map: (x: T) => unknown, comma = true, indent = '  '): Generator<string> {
    let buf = `${indent}${JSON.stringify(k)}: [`;
    for (let i = 0; i < items.length; i++) {
      buf += `${i === 0 ? '\n' : ',\n'}${indent}  ${JSON.stringify(map(items[i] as T))}`;
      if (buf.length > 1 << 16) { yield buf; buf = ''; }
    }
    yield `${buf}${items.length ? `\n${indent}` : ''}]${comma ? ',' : ''}\n`;
  }
  yield '{\n' + field('version', r.version) + field('tool', r.tool) + field('capture', r.capture)
    + field('settings', r.settings) + field('summary', r.summary);
  yield* list('connections', r.connections, (c) => (all || c.findings.length > 0 || c.ladder.length === 0 ? c : { ...c, ladder: [], elided: c.elided + c.ladder.length }));
  yield* list('findings', r.findings, (f) => f, true);
  // Aggregates can hold a row per client host: one row per line, like connections.
  yield '  "aggregates": {\n';
  yield* list('servers', r.aggregates.servers, (a) => a, true, '    ');
  yield* list('pairs', r.aggregates.pairs, (a) => a, false, '    ');
  yield '  }\n}\n';
}
