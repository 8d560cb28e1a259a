/**
 * Findings list: one tab per kind, sortable (time, age, severity, server), filtered by `/` over addresses, ports
 * and text. The selected finding's verdict is shown under the list; Enter opens its connection.
 */
import { duration } from '../../report/format.js';
import { count, pad, padLine, padStart, seg, wrap } from '../text.js';
import type { Line } from '../text.js';
import { follow } from '../view-state.js';
import type { KindFilter, SortKey } from '../view-state.js';
import { noNav, offset, offsetUnit, offsetWidth, selected, SEVERITY_COLOR, sevSeg } from './common.js';
import type { Screen, ScreenInput } from './common.js';
import { endpointText } from '../../model/endpoint.js';

const PREVIEW = 4;


export function findingsScreen({ snap, state, width, height }: ScreenInput): Screen {
  const fs = state.findings;
  const all = snap.rows.findingCount;
  const kinds = snap.rows.kinds();
  const tabs: KindFilter[] = ['all', ...kinds.map((k) => k.kind)];
  const kind: KindFilter = tabs.includes(fs.kind) ? fs.kind : 'all';
  const list = snap.rows.list({ kind, sort: fs.sort, filter: fs.filter });
  const first = snap.report?.capture.firstTime ?? snap.progress.firstTime;
  const last = snap.report?.capture.lastTime ?? snap.progress.lastTime;
  const span = first !== null && last !== null ? last - first : 0;
  const tw = Math.max(offsetWidth(span), 9);

  // Tab strip: the current kind inverse; it scrolls so that the current tab stays visible.
  const tabSegs = tabs.map((k) => {
    const n = k === 'all' ? all : kinds.find((r) => r.kind === k)?.count ?? 0;
    const on = k === kind;
    const worst = k === 'all' ? undefined : kinds.find((r) => r.kind === k)?.worst;
    return seg(` ${k} ${count(n)} `, { inverse: on, bold: on, ...(worst ? { color: SEVERITY_COLOR[worst] } : {}) });
  });
  const cur = tabs.indexOf(kind);
  let firstTab = 0;
  const widthOf = (from: number, to: number) => tabSegs.slice(from, to + 1).reduce((a, s) => a + s.t.length + 1, 0);
  while (firstTab < cur && widthOf(firstTab, cur) > width - 4) firstTab++;
  const tabLine: Line = [...(firstTab > 0 ? [seg('‹ ', { dim: true })] : []), ...tabSegs.slice(firstTab).flatMap((s) => [s, seg(' ')])];

  const status: Line = [
    seg(`${count(list.length)} of ${count(all)}${snap.phase === 'reading' ? ' so far' : ''}`, { bold: true }),
    ...(snap.phase === 'reading' && snap.listCapped ? [seg(` (the latest ${count(all)}; all when reading ends)`, { dim: true })] : []),
    seg(`   sort: ${fs.sort}`, { color: 'cyan' }),
    seg('   filter: '), seg(fs.filter || (fs.editing ? '' : '(none: / to filter)'), fs.filter ? { color: 'yellow', bold: true } : { dim: true }),
    ...(fs.editing ? [seg('▏', { color: 'yellow' })] : []),
  ];

  // Columns: marker, severity, time offset, age, kind (on the 'all' tab), connection and endpoints.
  const showKind = kind === 'all';
  const kw = showKind ? Math.min(22, Math.max(...kinds.map((k) => k.kind.length), 4)) + 2 : 0;
  // Narrow terminals drop the age column unless the list is sorted by it.
  const showAge = width >= 90 || fs.sort === 'age';
  const header: Line = [seg(`  ${pad('sev', 6)}${padStart(offsetUnit(span) ? 'time (s)' : 'time', tw)}${showAge ? ` ${padStart('age', 9)}` : ''}  ${showKind ? pad('kind', kw) : ''}connection`, { dim: true, bold: true })];

  // The list takes what it needs (at least half the body); the preview of the selected finding gets the rest.
  const preview = Math.max(PREVIEW, Math.min(height - 3 - Math.max(1, list.length), Math.floor((height - 3) / 2)));
  const listHeight = Math.max(1, height - 3 - preview);
  const view = follow(fs.selected, fs.scroll, list.length, listHeight);
  const page = list.rows(view.scroll, view.scroll + listHeight);
  const lines: Line[] = [tabLine, status, header];
  for (let i = view.scroll; i < Math.min(list.length, view.scroll + listHeight); i++) {
    const r = page[i - view.scroll]!;
    const f = r.finding;
    const on = i === view.selected;
    const c = r.connection;
    lines.push(selected(padLine([
      seg(on ? '▸ ' : '  ', { bold: true }),
      sevSeg(f.severity, 6),
      seg(padStart(offset(f.time, first, span), tw)),
      seg(showAge ? ` ${padStart(r.age === null ? '-' : duration(r.age), 9)}  ` : '  '),
      ...(showKind ? [seg(pad(f.kind, kw), { color: SEVERITY_COLOR[f.severity] })] : []),
      seg(`${pad(f.connection, 6)}`, { dim: !on }),
      seg(c ? `${endpointText(c.client)} → ${endpointText(c.server)}` : typeof f.details.server === 'string' ? `server ${f.details.server}` : '(connection still open)'),
      seg(c && c.incarnation > 0 ? ` #${c.incarnation}` : '', { dim: true }),
    ], width), on));
  }
  if (list.length === 0) {
    lines.push([seg(all === 0
      ? (snap.phase === 'reading' ? '  no findings yet' : '  no findings in this capture')
      : '  nothing matches the filter (Esc clears it)', { dim: true })]);
  }
  while (lines.length < height - preview) lines.push([]);

  // Preview of the selected finding: the verdict, then why as far as it fits.
  const sel = view.selected >= view.scroll && view.selected < view.scroll + page.length ? page[view.selected - view.scroll] : list.rows(view.selected, view.selected + 1)[0];
  lines.push([seg('─'.repeat(Math.max(0, width)), { dim: true })]);
  if (sel) {
    const room = preview - 2;
    const text = wrap(sel.finding.summary, width - 2).map((t): Line => [seg(` ${t}`, { bold: true })]);
    const why = wrap(`why: ${sel.finding.why}`, width - 2).map((t): Line => [seg(` ${t}`, { dim: true })]);
    const body = [...text, ...why].slice(0, room);
    lines.push(...body);
    for (let i = body.length; i < room; i++) lines.push([]);
    lines.push([seg(' Enter: open the connection, its ladder and evidence', { dim: true })]);
  }

  return {
    lines,
    nav: {
      ...noNav(list.length, listHeight),
      kinds: tabs,
      target: sel && sel.finding.connection !== '' ? { type: 'connection', id: sel.finding.connection, focus: sel.finding.kind } : null,
    },
    hints: fs.editing ? 'type to filter · Enter keep · Esc clear' : '↑↓ move · ←→ kind · s sort · / filter · Enter open · Esc back · ? help',
  };
}
