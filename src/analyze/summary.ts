import type { ConnectionReport, Evictions, Finding, FindingKind, Report, Severity, Teardown } from '../model/report.js';

/**
 * The report's `summary` block from its connections and findings (docs/json-format.md): teardown counts, one-sided
 * connections, the stuck-half-close findings split into disjoint counts, findings by kind and severity, and the
 * evictions. One definition for a session's report and for a report merged from result folders.
 */
export function reportSummary(connections: readonly ConnectionReport[], findings: readonly Finding[], evicted: Evictions): Report['summary'] {
  const teardown: Record<Teardown, number> = { fin: 0, rst: 0, 'half-close': 0, refused: 0, open: 0, none: 0 };
  let oneSided = 0;
  for (const c of connections) { teardown[c.teardown]++; if (c.capture === 'one-sided') oneSided++; }
  const kinds: Partial<Record<FindingKind, number>> = {};
  const severity: Record<Severity, number> = { info: 0, warn: 0, error: 0 };
  const halfCloses = { stuck: 0, openAtEnd: 0, legitimate: 0, other: 0 };
  for (const f of findings) {
    kinds[f.kind] = (kinds[f.kind] ?? 0) + 1;
    severity[f.severity]++;
    if (f.kind !== 'stuck-half-close') continue;
    const d = f.details;
    if (d.stuck === true) halfCloses.stuck++;
    else if (d.legitimate === true) halfCloses.legitimate++;
    else if (d.openAtEnd === true) halfCloses.openAtEnd++;
    else halfCloses.other++;
  }
  return { connections: connections.length, teardown, oneSided, halfCloses, findings: kinds, severity, evicted };
}
