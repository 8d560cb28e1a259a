import type { ConnectionReport, Finding, FindingKind, Report } from '../model/report.js';
import { FINDING_KINDS } from '../model/report.js';
import { endpointText } from '../model/endpoint.js';
import { CATALOG } from '../findings/catalog.js';
import { showsReuse } from '../findings/aggregates.js';
import { linkTypeName } from '../model/link-types.js';
import { CONNECTION_ROWS, TextDigest } from '../analyze/digest.js';
import { duration, isoTime, packetHeader, packetLine, plural } from './format.js';

function detailText(d: Record<string, unknown>): string {
  return Object.entries(d).filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(6).replace(/0+$/, '').replace(/\.$/, '') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** "N flows evicted under pressure …", or null when the bound was never reached. */
export function evictedLine(r: Report): string | null {
  const e = r.summary.evicted;
  if (e.total === 0 && e.tombstones === 0) return null;
  const parts = [`${e.handshakeOnly} handshake-only dropped`, `${e.judgedEarly} judged early`];
  if (e.tombstones > 0) parts.push(`${e.tombstones} tombstones forgotten`);
  return `${e.total} flows evicted under pressure (--max-connections ${e.maxConnections}): ${parts.join(', ')}`;
}

export function findingText(f: Finding, c: ConnectionReport | undefined): string {
  const lines: string[] = [];
  const where = c ? `${endpointText(c.client)} → ${endpointText(c.server)} (incarnation ${c.incarnation})` : typeof f.details.server === 'string' ? `server ${f.details.server}` : '';
  lines.push(`[${f.severity}] ${f.kind}  ${f.connection}  ${where}  at ${isoTime(f.time)}`);
  lines.push(`  ${f.summary}`);
  lines.push(`  why: ${f.why}`);
  lines.push(`  rule: ${f.rule}`);
  if (f.evidence.length) {
    lines.push('  evidence:', `    ${packetHeader()}`);
    for (const p of f.evidence) lines.push(`    ${packetLine(p)}`);
  }
  lines.push(`  details: ${detailText(f.details)}`);
  if (c) lines.push(`  wireshark: ${c.filter}`);
  if (c?.encapsulation) lines.push(`  encapsulation: ${c.encapsulation.text}`);
  return lines.join('\n');
}

/** Connections listed in the text report's table: all up to this many, else the first this many with findings. */
export const TABLE_ROWS = CONNECTION_ROWS;

/** The plain-text report: summary, findings with evidence, aggregates, connection table. */
export interface TextOptions {
  connections?: boolean;
  /** Findings printed in full per kind (the rest are counted); 0 = all. Default 50. */
  maxPerKind?: number;
  /** The format in the header line, in place of the capture's (a report merged from captures of several formats). */
  format?: string;
}

/** The digest of a whole report (its connections and findings lists), for textReport. */
export function digestOf(r: Report, maxPerKind = 50): TextDigest {
  const d = new TextDigest(maxPerKind);
  const per = new Map<string, Finding[]>();
  for (const f of r.findings) { const l = per.get(f.connection); if (l) l.push(f); else per.set(f.connection, [f]); }
  const ids = new Set<string>();
  r.connections.forEach((c, i) => { ids.add(c.id); d.add(c, per.get(c.id) ?? [], i, 0); });
  d.addLoose(r.findings.filter((f) => !ids.has(f.connection)));
  return d;
}

/**
 * The plain-text report. A streamed report (empty `connections` and `findings`) comes with the digest its
 * session folded; a whole report makes its own.
 */
export function textReport(r: Report, opts: TextOptions = {}, digest?: TextDigest): string {
  const max = opts.maxPerKind ?? 50;
  const d = digest ?? digestOf(r, max);
  const out: string[] = [];
  const cap = r.capture;
  const links = cap.linkTypes.map((l) => linkTypeName(l) ?? `linktype ${l}`).join(', ') || 'no packets';
  out.push(`teardown ${r.tool.version} — ${cap.path} (${opts.format ?? `${cap.format ?? 'unknown format'}${cap.compressed ? ', gzip' : ''}`}, ${links})`);
  const span = cap.firstTime !== null && cap.lastTime !== null ? `, ${isoTime(cap.firstTime)} → ${isoTime(cap.lastTime)} (${duration(cap.lastTime - cap.firstTime)})` : '';
  const und = Object.entries(cap.undecodable).map(([k, v]) => `${v} ${k}`).join(', ');
  out.push(`  ${plural(cap.packets, 'packet')} (${cap.tcpPackets} TCP${und ? `; not analyzed: ${und}` : ''}), ${plural(r.summary.connections, 'connection')}${span}`);
  if (cap.interrupted) out.push(`  INTERRUPTED after ${plural(cap.packets, 'packet')}: the report covers what was read`);
  if (cap.error) out.push(`  WARNING: ${/^[^:]*: out of memory|the analysis failed/.test(cap.error) ? 'reading stopped' : 'input damaged'}, analysis covers what came before: ${cap.error}`);
  const ev = evictedLine(r);
  if (ev !== null) out.push(`  ${ev}`);
  for (const w of cap.warnings) out.push(`  note: ${w}`);
  if (cap.drops !== null && cap.drops > 0) {
    const marked = d.marked;
    out.push(`  WARNING: the capture dropped ${cap.drops} packets; ${marked > 0
      ? `${marked} connection${marked === 1 ? ' was' : 's were'} open meanwhile and ${marked === 1 ? 'its verdict says' : 'their verdicts say'} so`
      : 'verdicts may rest on packets that were never seen'}`);
  }
  const td = Object.entries(r.summary.teardown).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  out.push(`  teardown: ${td || 'none'}`);
  if (r.summary.oneSided > 0) out.push(`  one-sided: ${r.summary.oneSided} connection(s) captured in one direction only; verdicts that need the other direction are at most info`);
  out.push(`  settings: half-close timeout ${r.settings.halfCloseTimeout} s, TIME_WAIT ${r.settings.timeWait} s (${r.settings.timeWaitProfile})${r.settings.flowKey !== undefined && r.settings.flowKey !== 'tuple' ? `, flow key ${r.settings.flowKey}` : ''}`);
  const s = r.summary.severity;
  out.push(`  findings: ${s.error} error, ${s.warn} warn, ${s.info} info`);
  for (const k of FINDING_KINDS) {
    const n = r.summary.findings[k];
    if (!n) continue;
    if (k === 'stuck-half-close') {
      const h = r.summary.halfCloses;
      const parts = [`${h.stuck} stuck`, `${h.openAtEnd} open at capture end (not yet stuck)`, ...(h.legitimate ? [`${h.legitimate} legitimate (peer still sending)`] : []), ...(h.other ? [`${h.other} closed late, not idle`] : [])];
      out.push(`    ${k.padEnd(22)} ${String(n).padStart(6)}  Half-close (CLOSE_WAIT): ${parts.join(', ')}`);
    } else out.push(`    ${k.padEnd(22)} ${String(n).padStart(6)}  ${CATALOG[k].title}`);
  }
  if (s.error + s.warn + s.info > 0) {
    out.push('', 'Findings');
    // Worst first within the cap, so a capped kind still shows its errors; time order otherwise.
    for (const k of d.shown()) out.push('', findingText(k.f, k.c));
    const hidden = d.kinds().map((k): [string, number] => [k, r.summary.findings[k] ?? 0]).filter(([, n]) => max !== 0 && n > max).map(([k, n]) => `${n - max} more ${k}`);
    if (hidden.length) out.push('', `(${hidden.join(', ')} not shown: --max-per-kind 0 prints all; --json or the interactive view list every one)`);
  }
  const servers = r.aggregates.servers.filter((a) => a.halfClosed > 0);
  if (servers.length) {
    out.push('', 'Half-close (CLOSE_WAIT) pile-ups by server');
    for (const a of servers.slice(0, 20)) {
      out.push(`  ${endpointText(a.server).padEnd(28)} ${a.halfClosed} half-closed (${a.stuck} stuck), oldest ${a.oldestHalfCloseSeconds === null ? '-' : duration(a.oldestHalfCloseSeconds)}, of ${plural(a.connections, 'connection')}`);
    }
  }
  const pairs = r.aggregates.pairs.filter(showsReuse);
  if (pairs.length) {
    out.push('', 'TIME_WAIT reuse by client → server');
    for (const p of pairs.slice(0, 20)) {
      out.push(`  ${`${p.client} → ${endpointText(p.server)}`.padEnd(40)} ${plural(p.connections, 'connection')} from ${plural(p.distinctClientPorts, 'port')}, ${p.ratePerSecond === null ? 'rate: not enough data' : `${p.ratePerSecond.toFixed(1)}/s`}, ${plural(p.timeWaitReuses, 'reuse')} (${p.rejectedReuses} rejected), fastest ${p.fastestReuseSeconds === null ? '-' : duration(p.fastestReuseSeconds)}, port pressure ${p.exhaustionRatio === null ? 'not enough data' : `${(p.exhaustionRatio * 100).toFixed(1)}% (${plural(p.portsInUsePeak ?? 0, 'port')} in use at once)`}`);
    }
  }
  const total = r.summary.connections;
  if (opts.connections !== false && total) {
    out.push('', 'Connections');
    const shown = d.rows(total);
    if (shown.length < total) out.push(`  (${shown.length} with findings shown of ${total}; --json lists all)`);
    for (const c of shown) {
      out.push(`  ${c.id.padEnd(7)} ${`${endpointText(c.client)} → ${endpointText(c.server)}`.padEnd(44)} #${c.incarnation} ${c.teardown.padEnd(10)} closer ${String(c.closer ?? '-').padEnd(6)} ${c.ending.padEnd(26)} ${c.states.client}/${c.states.server}${c.capture === 'one-sided' ? `  one-sided (no ${c.missingSide} packets)` : ''}  frames ${c.firstFrame}-${c.lastFrame}${c.findings.length ? `  [${c.findings.join(', ')}]` : ''}${c.encapsulation ? `  via ${c.encapsulation.text}` : ''}`);
      for (const x of c.inferences ?? []) out.push(`          inferred: the ${x.side}'s FIN (not captured) from frame ${x.frame}: ${x.why}`);
      for (const v of c.revisions) out.push(`          revised: frame ${v.frame} (${v.what}) overruled by frame ${v.revisedBy}: ${v.why}`);
    }
  }
  return out.join('\n') + '\n';
}
