import type { Report } from '../analyze/report.js';

/**
 * `--json`: the Report as one object (docs/json-format.md). Ladders are included only for connections with
 * findings unless `ladders: 'all'`, which keeps the output proportional to what is worth reading.
 */
export function jsonReport(r: Report, opts: { ladders?: 'all' | 'findings' } = {}): string {
  const all = opts.ladders === 'all';
  const connections = r.connections.map((c) => (all || c.findings.length > 0 ? c : { ...c, ladder: [] }));
  return JSON.stringify({ ...r, connections }, null, 2) + '\n';
}
