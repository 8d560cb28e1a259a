/**
 * Overview: capture facts, a count per finding kind (severity colours; the selectable rows), the servers with
 * the largest CLOSE_WAIT pile-ups and the client→server pairs with the most TIME_WAIT reuse.
 */
import { CATALOG } from '../../findings/catalog.js';
import { duration, plural as counted } from '../../report/format.js';
import { evictedLine } from '../../report/text.js';
import { closeWaitServers, linkNames, timeWaitPairs } from '../model.js';
import { bar, count, pad, padStart, seg } from '../text.js';
import type { Line } from '../text.js';
import { follow } from '../view-state.js';
import type { Target } from '../view-state.js';
import { blank, noNav, SEVERITY_COLOR, timeSpan, title } from './common.js';
import type { Screen, ScreenInput } from './common.js';
import { endpointText } from '../../model/endpoint.js';

const plural = (n: number, one: string, many = `${one}s`) => counted(n, one, many, count);

export function overviewScreen({ snap, state, width, height }: ScreenInput): Screen {
  const p = snap.progress;
  const report = snap.report;
  const reading = snap.phase === 'reading';
  const facts: Line[] = [];
  const fmt = snap.live
    ? `live capture${snap.live.filter ? ` · filter '${snap.live.filter}'` : ''}`
    : snap.merged ? [snap.merged.formats, linkNames(p.linkTypes)].filter(Boolean).join(' · ')
    : [p.format ?? (reading ? '…' : 'unknown format'), ...(p.compressed ? ['gzip'] : []), linkNames(p.linkTypes)].filter(Boolean).join(' · ');
  facts.push([seg(snap.path === '-' ? 'standard input' : snap.path, { bold: true }), seg(`  ${fmt}`)]);
  if (snap.merged) {
    const m = snap.merged;
    facts.push([seg(`merged from ${plural(m.folders, 'result folder')} · ${plural(m.captures, 'capture')} · ${plural(m.labels.length, 'label')}: ${m.labels.join(', ')}`, { dim: true })]);
  }
  const span = p.firstTime !== null && p.lastTime !== null ? ` · ${timeSpan(p.firstTime, p.lastTime)}` : '';
  const undecodable = report ? Object.values(report.capture.undecodable).reduce((a, b) => a + b, 0) : 0;
  facts.push([seg(`${plural(p.packets, 'packet')} (${count(p.tcpPackets)} TCP${undecodable ? `, ${count(undecodable)} not analyzed` : ''}) · ${plural(p.connections, 'connection')}${reading ? ' judged so far' : ''}`)]);
  if (span) facts.push([seg(span.slice(3), { dim: true })]);
  if (report) {
    const td = Object.entries(report.summary.teardown).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${count(n)}`).join(' · ');
    facts.push([seg(`teardowns: ${td || 'none'}`, { dim: true }), seg(`   half-close timeout ${report.settings.halfCloseTimeout} s · TIME_WAIT ${report.settings.timeWait} s (${report.settings.timeWaitProfile})`, { dim: true })]);
  }
  const evicted = report ? evictedLine(report) : null;
  if (evicted !== null) facts.push([seg(evicted, { color: 'yellow' })]);
  if (report && report.summary.findings['stuck-half-close']) {
    const h = report.summary.halfCloses;
    facts.push([seg('half-closes: '), seg(`${count(h.stuck)} stuck`, { color: h.stuck > 0 ? 'red' : undefined, bold: h.stuck > 0 } as { color?: 'red'; bold: boolean }),
      seg(` · ${count(h.openAtEnd)} open at capture end (not yet stuck)${h.legitimate ? ` · ${count(h.legitimate)} legitimate` : ''}${h.other ? ` · ${count(h.other)} closed late` : ''}`, { dim: true })]);
  }
  if (report && report.summary.oneSided > 0) {
    facts.push([seg(`one-sided: ${plural(report.summary.oneSided, 'connection')} captured in one direction only — verdicts that need the other direction are at most info`, { color: 'yellow' })]);
  }
  if (snap.error) facts.push([seg(`input damaged: ${snap.error} — the analysis covers what came before`, { color: 'red', bold: true })]);
  for (const w of report?.capture.warnings ?? []) facts.push([seg(`note: ${w}`, { dim: true })]);

  // Finding kinds: the selectable rows.
  const kinds = snap.rows.kinds();
  const sev = snap.rows.severities();
  const total = snap.rows.findingCount;
  const kindLines: Line[] = [];
  const sel = follow(state.overview.selected, 0, kinds.length, kinds.length).selected;
  const kw = Math.max(10, Math.min(22, width - 40));
  kinds.forEach((k, i) => {
    const on = i === sel;
    const counts = (['error', 'warn', 'info'] as const).map((s) => padStart(k.bySeverity[s] ? count(k.bySeverity[s]) : '·', 6));
    const line: Line = [
      seg(on ? '▸ ' : '  ', { bold: true }),
      seg(pad(k.kind, kw), { color: SEVERITY_COLOR[k.worst], bold: k.worst === 'error', inverse: on }),
      seg(padStart(count(k.count), 7), { bold: true, inverse: on }),
      seg(counts[0] ?? '', { color: 'red' }), seg(counts[1] ?? '', { color: 'yellow' }), seg(counts[2] ?? '', { color: 'cyan' }),
      seg(`  ${CATALOG[k.kind].title}`, { dim: !on }),
    ];
    kindLines.push(line);
  });
  const findingsTitle: Line = [
    seg(pad(`Findings  ${count(total)}${reading ? ' so far' : ''}`, 2 + kw + 7), { bold: true }),
    seg(padStart('error', 6), { color: 'red' }), seg(padStart('warn', 6), { color: 'yellow' }), seg(padStart('info', 6), { color: 'cyan' }),
    seg('  Enter: list', { dim: true }),
  ];
  const noneLine: Line[] = kinds.length === 0
    ? [[seg(reading ? '  none yet' : '  none: every connection in the capture closed without a finding', { color: 'green' })]]
    : [];
  const totals: Line = [seg(`  ${pad('total', kw)}${padStart(count(total), 7)}`, { dim: true }),
    seg(padStart(String(sev.error), 6), { color: 'red' }), seg(padStart(String(sev.warn), 6), { color: 'yellow' }), seg(padStart(String(sev.info), 6), { color: 'cyan' })];

  const top: Line[] = [...facts, blank, findingsTitle, ...kindLines, ...noneLine, ...(kinds.length > 1 ? [totals] : [])];

  // Aggregates fill what is left, split between the two tables.
  const rest: Line[] = [];
  if (report) {
    const servers = closeWaitServers(report);
    const pairs = timeWaitPairs(report);
    const room = Math.max(2, height - top.length - 4); // two blank+title pairs
    let nServers = servers.length;
    let nPairs = pairs.length;
    if (Math.max(1, nServers) + Math.max(1, nPairs) > room) {
      const r = Math.max(2, room - 2); // keep a line for each "… N more"
      nPairs = Math.min(pairs.length, Math.max(1, Math.floor(r / 2)));
      nServers = Math.min(servers.length, Math.max(1, r - Math.max(1, nPairs)));
      nPairs = Math.min(pairs.length, Math.max(1, r - Math.max(1, nServers)));
    }
    rest.push(blank, title('CLOSE_WAIT pile-ups', 'servers that left connections half-closed'));
    if (servers.length === 0) rest.push([seg('  none', { color: 'green' })]);
    const sw = Math.max(12, Math.min(30, ...servers.slice(0, nServers).map((a) => endpointText(a.server).length)));
    for (const a of servers.slice(0, nServers)) {
      rest.push([
        seg(`  ${pad(endpointText(a.server), sw)}`),
        seg(padStart(count(a.halfClosed), 6), { bold: true, color: a.stuck > 0 ? 'red' : 'yellow' }),
        seg(' half-closed'),
        seg(` · ${count(a.stuck)} stuck`, a.stuck > 0 ? { color: 'red' } : { dim: true }),
        seg(` · oldest ${a.oldestHalfCloseSeconds === null ? '-' : duration(a.oldestHalfCloseSeconds)} · of ${plural(a.connections, 'connection')}`, { dim: true }),
      ]);
    }
    if (servers.length > nServers) rest.push([seg(`  … ${count(servers.length - nServers)} more`, { dim: true })]);
    rest.push(blank, title('TIME_WAIT reuse', 'client → server pairs; exhaustion 1.0 = every port of the pool tied up at once'));
    if (pairs.length === 0) rest.push([seg('  none', { color: 'green' })]);
    const pw = Math.max(16, Math.min(44, ...pairs.slice(0, nPairs).map((x) => x.client.length + 3 + endpointText(x.server).length)));
    for (const x of pairs.slice(0, nPairs)) {
      const ratio = x.exhaustionRatio;
      const color = ratio === null ? 'gray' : ratio >= 0.8 ? 'red' : ratio >= 0.5 ? 'yellow' : 'green';
      rest.push([
        seg(`  ${pad(`${x.client} → ${endpointText(x.server)}`, pw)}`),
        seg(padStart(count(x.timeWaitReuses), 6), { bold: true, color: x.timeWaitReuses > 0 ? 'yellow' : 'gray' }),
        seg(` reuse${x.timeWaitReuses === 1 ? ' ' : 's'}`),
        seg(x.rejectedReuses ? ` (${count(x.rejectedReuses)} rejected)` : '', { color: 'red' }),
        seg(` · ${plural(x.distinctClientPorts, 'port')} · ${x.ratePerSecond === null ? 'rate: not enough data' : `${x.ratePerSecond.toFixed(1)}/s`}`, { dim: true }),
        seg(` · exhaustion ${ratio === null ? 'not enough data' : ratio.toFixed(2)} `, { color }),
        seg(ratio === null ? '' : bar(ratio, 10), { color }),
      ]);
    }
    if (pairs.length > nPairs) rest.push([seg(`  … ${count(pairs.length - nPairs)} more`, { dim: true })]);
  } else {
    rest.push(blank, [seg(`CLOSE_WAIT pile-ups and TIME_WAIT reuse per server and pair appear when ${snap.live ? 'the capture stops' : 'reading ends'}.`, { dim: true })]);
  }

  const target: Target = { type: 'kind', kind: kinds[sel]?.kind ?? 'all' };
  return {
    lines: [...top, ...rest],
    nav: { ...noNav(kinds.length, kinds.length), target },
    hints: '↑↓ kind · Enter list · Tab views · ? help · q quit',
  };
}
