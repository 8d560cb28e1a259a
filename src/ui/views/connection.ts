/**
 * Connection detail: the verdict in one sentence and why, a ladder (client and server columns, an arrow per
 * packet with flags, relative seq/ack, length and time offset, each endpoint's inferred state after it, evidence
 * highlighted, "… N packets …" where packets were left out), links to the previous/next incarnation on the same
 * 4-tuple, the encapsulation (tunnels, labels, VLAN tags) the packets came in, and the Wireshark display filter.
 * The whole view scrolls.
 */
import type { ConnectionReport, Finding, PacketRef } from '../../model/report.js';
import { CATALOG } from '../../findings/catalog.js';
import { duration } from '../../report/format.js';
import { ladderRows } from '../model.js';
import type { LadderRow } from '../model.js';
import { bytes, clip, count, pad, padStart, seg, wrap } from '../text.js';
import type { Line } from '../text.js';
import { blank, noNav, offset, offsetUnit, offsetWidth, SEVERITY_COLOR, sevSeg, title } from './common.js';
import type { Screen, ScreenInput } from './common.js';
import { endpointText } from '../../model/endpoint.js';

const STATE_W = 12;

/** The arrow's label: flags, relative seq/ack and length (the length only when there is payload). */
export function arrowLabel(p: PacketRef, room: number): string {
  const full = `${p.flags} seq=${p.relSeq}${p.relAck === null ? '' : ` ack=${p.relAck}`}${p.len > 0 ? ` len=${p.len}` : ''}`;
  if (full.length <= room) return full;
  const short = `${p.flags} ${p.relSeq}${p.relAck === null ? '' : `/${p.relAck}`}${p.len > 0 ? ` +${p.len}` : ''}`;
  return clip(short, room);
}

/** `│── label ─────▶│` (client → server) or `│◀───── label ──│`, exactly `w` wide. */
export function arrow(p: PacketRef, w: number): string {
  const inner = Math.max(4, w - 2);
  const label = arrowLabel(p, inner - 5);
  const fill = Math.max(1, inner - label.length - 4);
  return p.dir === 'c2s'
    ? `│─ ${label} ${'─'.repeat(fill)}▶│`
    : `│◀${'─'.repeat(fill)} ${label} ─│`;
}

export interface LadderLayout {
  arrowW: number;
  noteW: number;
}

/** `timeW`: the time column's width (wider for connections that last 1000 s or more). */
export function ladderLayout(width: number, timeW = 10): LadderLayout {
  const fixed = 2 + 7 + timeW + 1 + (STATE_W + 1) * 2;
  const free = width - fixed;
  if (free < 64) return { arrowW: Math.max(20, free), noteW: 0 };
  const noteW = Math.min(30, free - 44);
  return { arrowW: Math.min(60, free - noteW - 1), noteW };
}

export function ladderLines(rows: readonly LadderRow[], c: ConnectionReport, width: number): Line[] {
  const span = Math.max(0, ...c.ladder.map((p) => p.offset));
  const timeW = Math.max(10, offsetWidth(span));
  const { arrowW, noteW } = ladderLayout(width, timeW);
  const lead = ' '.repeat(2 + 7 + timeW + 1);
  const out: Line[] = [];
  const half = Math.floor((arrowW - 2) / 2);
  out.push([seg(`${pad('  frame', 9)}${padStart(offsetUnit(span) ? 'time (s)' : 'time', timeW)} ${pad('client', STATE_W)} `, { dim: true, bold: true }),
    seg(`${pad(clip(endpointText(c.client), half), half)}${padStart(clip(endpointText(c.server), arrowW - half), arrowW - half)}`, { bold: true }),
    seg(` ${pad('server', STATE_W)}`, { dim: true, bold: true }), ...(noteW ? [seg(' note', { dim: true, bold: true })] : [])]);
  let prev: PacketRef | null = null;
  for (const r of rows) {
    if (r.type === 'divider') {
      const text = clip(` ${r.text} `, arrowW - 4);
      const l = Math.floor((arrowW - text.length) / 2);
      out.push([seg(`${lead}${' '.repeat(STATE_W + 1)}`), seg(`${'┄'.repeat(l)}${text}${'┄'.repeat(arrowW - l - text.length)}`, { color: 'magenta' })]);
      prev = null;
      continue;
    }
    if (r.type === 'elided') {
      const text = clip(`… ${count(r.count)} packet${r.count === 1 ? '' : 's'} not recorded …`, arrowW - 2);
      const l = Math.floor((arrowW - 2 - text.length) / 2);
      out.push([seg(`${lead}${' '.repeat(STATE_W + 1)}│`), seg(`${' '.repeat(l)}${text}${' '.repeat(arrowW - 2 - l - text.length)}`, { dim: true }), seg('│')]);
      continue;
    }
    const p = r.p;
    const ev = r.evidence;
    // Notes that only repeat the flags ('SYN', 'FIN') are left out.
    const note = p.note !== undefined && p.note !== p.flags && !p.flags.split(',').includes(p.note) ? p.note : null;
    const hl = ev ? { color: 'yellow' as const, bold: true } : {};
    const changed = (side: 'client' | 'server') => prev === null || prev.states[side] !== p.states[side];
    out.push([
      seg(ev ? '▶ ' : '  ', { color: 'yellow', bold: true }),
      seg(padStart(String(p.frame), 6) + ' ', ev ? hl : { dim: true }),
      seg(padStart(offset(p.offset, 0, span), timeW) + ' ', ev ? hl : {}),
      seg(pad(p.states.client, STATE_W) + ' ', { ...(changed('client') ? { bold: true } : { dim: true }), ...(ev ? { color: 'yellow' as const } : {}) }),
      seg(arrow(p, arrowW), ev ? hl : { color: p.flags.includes('RST') ? 'red' : p.flags.includes('FIN') || p.flags.includes('SYN') ? 'cyan' : undefined } as { color?: 'red' | 'cyan' }),
      seg(' ' + pad(p.states.server, STATE_W), { ...(changed('server') ? { bold: true } : { dim: true }), ...(ev ? { color: 'yellow' as const } : {}) }),
      ...(noteW && note ? [seg(` ${clip(note, noteW)}`, ev ? hl : { dim: true })] : []),
    ]);
    if (!noteW && note) {
      out.push([seg(`${lead}${' '.repeat(STATE_W + 1)}│`), seg(pad(`  ↳ ${note}`, arrowW - 2), ev ? { color: 'yellow' } : { dim: true }), seg('│')]);
    }
    prev = p;
  }
  return out;
}

function findingLines(f: Finding, first: number | null, span: number, width: number, full: boolean): Line[] {
  const out: Line[] = [];
  out.push([sevSeg(f.severity, 0), seg('  '), seg(f.kind, { bold: true, color: SEVERITY_COLOR[f.severity] }),
    seg(`  ${CATALOG[f.kind].title}`, { dim: true }), seg(`  at ${offset(f.time, first, span)}${offsetUnit(span)}`, { dim: true })]);
  for (const t of wrap(f.summary, width - 2)) out.push([seg(` ${t}`, { bold: true })]);
  if (!full) return out;
  const why = wrap(`why: ${f.why}`, width - 2);
  for (const t of why) out.push([seg(` ${t}`)]);
  return out;
}

export function connectionScreen({ snap, state, width, height }: ScreenInput): Screen {
  const id = state.connection.id;
  const kept = id === null ? undefined : snap.rows.connection(id);
  // A ladder the report did not keep is read back from the capture when the connection is opened.
  const readBack = kept !== undefined && kept.ladder.length === 0 && kept.packets > 0 && snap.rows.readLadder ? snap.rows.readLadder(kept) : null;
  const c = kept !== undefined && readBack?.state === 'done' ? { ...kept, ladder: readBack.ladder, elided: readBack.elided } : kept;
  if (id === null || c === undefined) {
    const lines: Line[] = [[seg(id === null ? 'No connection opened yet: pick a finding in the list and press Enter.' : `Connection ${id} is not in the report.`, { dim: true })]];
    return { lines, nav: noNav(0, height), hints: 'Esc back · Tab views · ? help · q quit' };
  }
  const first = snap.report?.capture.firstTime ?? snap.progress.firstTime;
  const last = snap.report?.capture.lastTime ?? snap.progress.lastTime;
  const span = first !== null && last !== null ? last - first : 0;
  const all = snap.rows.findingsOf(c.id);
  const focus = state.connection.focus;
  const focused = focus === null ? all : [...all.filter((f) => f.kind === focus), ...all.filter((f) => f.kind !== focus)];
  const main = focused[0];
  const others = focused.slice(1);

  const lines: Line[] = [];
  lines.push([seg(`${c.id}  `, { bold: true }), seg(`${endpointText(c.client)} → ${endpointText(c.server)}`, { bold: true }),
    seg(`  #${c.incarnation} · IPv${c.ipVersion} · frames ${c.firstFrame}–${c.lastFrame} · ${count(c.packets)} packets · ${duration(Math.max(0, c.end - c.start))}`, { dim: true })]);
  lines.push([seg(`teardown ${c.teardown}`, { color: c.teardown === 'rst' || c.teardown === 'half-close' ? 'yellow' : c.teardown === 'fin' ? 'green' : undefined } as { color?: 'yellow' | 'green' }),
    seg(` (${c.ending}${c.closer ? `, closer ${c.closer}` : ''}) · end states ${c.states.client} / ${c.states.server} · handshake ${c.handshake} · c→s ${bytes(c.bytes.c2s)} · s→c ${bytes(c.bytes.s2c)}${c.clientGuessed ? ' · client guessed from ports' : ''}`, { dim: true })]);
  lines.push([
    seg('previous incarnation: '), seg(c.previous ? `${c.previous} (p)` : '—', c.previous ? { color: 'cyan', bold: true } : { dim: true }),
    seg('   next incarnation: '), seg(c.next ? `${c.next} (n)` : '—', c.next ? { color: 'cyan', bold: true } : { dim: true }),
    seg(`   capture point ${c.capturePoint}`, { dim: true }),
    ...(c.capture === 'one-sided' ? [seg(`   one-sided capture: no ${c.missingSide} packets`, { color: 'yellow' as const })] : []),
  ]);
  // Tunnels, labels and VLAN tags the packets came in (wrapped: a path through several tunnels is long).
  if (c.encapsulation) {
    const t = wrap(`encapsulation: ${c.encapsulation.text}`, width - 1);
    const head = 'encapsulation: ';
    t.forEach((l, i) => lines.push(i === 0 && l.startsWith(head) ? [seg(head), seg(l.slice(head.length), { color: 'magenta' })] : [seg(l, { color: 'magenta' })]));
  }
  for (const x of c.inferences ?? []) {
    for (const t of wrap(`inferred: the ${x.side}'s FIN (not captured) from frame ${x.frame}: ${x.why}`, width - 1)) lines.push([seg(t, { color: 'cyan' })]);
  }
  for (const v of c.revisions) {
    for (const t of wrap(`revised: frame ${v.frame} (${v.what}) overruled by frame ${v.revisedBy}: ${v.why}`, width - 1)) lines.push([seg(t, { color: 'yellow' })]);
  }
  lines.push(blank);
  if (main) lines.push(...findingLines(main, first, span, width, true));
  else lines.push([seg('No finding on this connection.', { color: 'green' })]);
  lines.push(blank);

  const rows = ladderRows(c, all, focus);
  const evidenceCount = rows.filter((r) => r.type === 'packet' && r.evidence).length;
  lines.push(title(`Ladder  ${count(c.ladder.length)} of ${count(c.packets)} packets`,
    [...(evidenceCount ? ['▶ evidence'] : []), ...(readBack?.state === 'done' ? [readBack.how] : [])].join(' · ')));
  if (readBack?.state === 'reading') {
    lines.push([seg(`  Not kept in the report: reading its ${count(c.packets)} packets back from the capture…`, { color: 'yellow' })]);
  } else if (c.ladder.length === 0 && c.packets > 0) {
    // Nothing to draw: say why rather than show an empty ladder.
    const why = snap.merged?.laddersWithFindingsOnly && c.findings.length === 0
      ? `Not kept: the result folder holds packet ladders only for connections with findings (write them all with analyze --out DIR --json --ladders all). The ${count(c.packets)} packets are in the capture: open it with the Wireshark filter below.`
      : readBack?.state === 'failed' ? `Not kept in the report, and not read back from the capture: ${readBack.why}. The ${count(c.packets)} packets are in the capture: open it with the Wireshark filter below.`
      : `Not recorded: ${count(c.packets)} packets, none kept for the ladder.`;
    for (const t of wrap(why, width - 2)) lines.push([seg(`  ${t}`, { color: 'yellow' })]);
  } else lines.push(...ladderLines(rows, c, width));

  if (others.length) {
    lines.push(blank, title('Also on this connection'));
    for (const f of others) lines.push(...findingLines(f, first, span, width, true));
  }
  lines.push(blank);
  if (main) for (const t of wrap(`rule: ${main.rule}`, width - 1)) lines.push([seg(t, { dim: true })]);
  lines.push(title('Wireshark filter'));
  // Wrapped at spaces only, so copying the lines gives back the filter.
  for (const t of wrap(c.filter, width - 1)) lines.push([seg(t, { color: 'green' })]);

  const page = Math.max(1, height);
  const scroll = Math.min(state.connection.scroll, Math.max(0, lines.length - page));
  return {
    lines: lines.slice(scroll, scroll + page),
    nav: { ...noNav(lines.length, page), incarnations: { previous: c.previous, next: c.next } },
    hints: `↑↓ scroll${lines.length > page ? ` (${scroll + 1}–${Math.min(lines.length, scroll + page)} of ${lines.length})` : ''} · p/n incarnation · Esc back · ? help · q quit`,
  };
}
