import { FINDING_KINDS } from '../model/report.js';
import { duration, isoTime } from '../report/format.js';
import { textReport, type TextOptions } from '../report/text.js';
import { formatsText, type MergedReport } from './merge.js';

/** `report --text`: analyze's text report of the merged runs, then captures, labels and findings over time. */
export function mergedText(r: MergedReport, opts: TextOptions = {}): string {
  const out: string[] = [textReport(r, { ...opts, format: formatsText(r.captures) }).trimEnd()];
  if (r.captures.length > 1 || r.captures.some((c) => c.shards.n > 1)) {
    out.push('', 'Captures');
    for (const c of r.captures) {
      out.push(`  ${c.label.padEnd(24)} ${c.capture}  ${c.connections} connections, ${c.findings} findings${c.shards.n > 1 ? `, shards ${c.shards.present.length}/${c.shards.n}` : ''}`);
    }
  }
  if (r.labels.length > 1) {
    out.push('', 'By label');
    for (const l of r.labels) {
      const kinds = FINDING_KINDS.filter((k) => l.summary.findings[k]).map((k) => `${k} ${l.summary.findings[k]}`).join(', ');
      const pile = l.aggregates.servers.filter((s) => s.halfClosed > 0).length;
      const pressure = l.aggregates.pairs.reduce((m, p) => Math.max(m, p.exhaustionRatio ?? 0), 0);
      out.push(`  ${l.label.padEnd(24)} ${l.captures} capture${l.captures === 1 ? '' : 's'}, ${l.summary.connections} connections; ${kinds || 'no findings'}`
        + `${pile ? `; ${pile} servers with CLOSE_WAIT` : ''}${pressure > 0 ? `; port pressure up to ${(pressure * 100).toFixed(1)}%` : ''}`);
    }
  }
  const b = r.overTime.buckets;
  if (b.length > 1) {
    out.push('', `Over time (per ${duration(r.overTime.bucketSeconds)})`);
    for (const x of b) {
      const kinds = FINDING_KINDS.filter((k) => x.findings[k]).map((k) => `${k} ${x.findings[k]}`).join(', ');
      out.push(`  ${isoTime(x.start)}  ${String(x.connections).padStart(7)} connections  ${kinds}`);
    }
  }
  return out.join('\n') + '\n';
}
