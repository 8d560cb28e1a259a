/**
 * Timeline: over capture time, connections half-closed, held in TIME_WAIT, and resets, as column charts that fit
 * the width, so a pile-up or a reset storm shows at a glance. Bins come from `connections[].times`.
 */
import { duration } from '../../report/format.js';
import { columnChart, count, pad, padStart, seg } from '../text.js';
import type { Color, Line } from '../text.js';
import { blank, noNav, timeSpan } from './common.js';
import type { Screen, ScreenInput } from './common.js';

const HINTS = 'Tab views · Esc back · ? help · q quit';

export function timelineScreen({ snap, width, height }: ScreenInput): Screen {
  const report = snap.report;
  if (!report) {
    return { lines: [[seg('The timeline is drawn when reading ends (it needs every connection).', { dim: true })]], nav: noNav(0, height), hints: HINTS };
  }
  const start = report.capture.firstTime;
  const end = report.capture.lastTime;
  if (start === null || end === null) {
    return { lines: [[seg('No packets: nothing to draw.', { dim: true })]], nav: noNav(0, height), hints: HINTS };
  }
  const chartW = Math.max(10, width - 2);
  const tl = snap.rows.timeline(start, end, chartW);
  const series: { name: string; what: string; values: number[]; color: Color; peakWord: string }[] = [
    { name: 'half-closed', what: 'one side closed, the other has not (CLOSE_WAIT / FIN_WAIT_2)', values: tl.halfClosed, color: 'yellow', peakWord: 'at once' },
    { name: 'TIME_WAIT', what: 'closed connections whose closer holds TIME_WAIT', values: tl.timeWait, color: 'cyan', peakWord: 'at once' },
    { name: 'resets', what: 'accepted RSTs', values: tl.reset, color: 'red', peakWord: 'in one column' },
  ];
  const lines: Line[] = [];
  lines.push([seg('Timeline', { bold: true }), seg(`  ${timeSpan(start, end)} · column = ${duration(tl.binSeconds)}`, { dim: true })]);
  const chartH = Math.max(1, Math.min(8, Math.floor((height - 1 - 3 * 2 - 1) / 3)));
  const statsOf = (s: (typeof series)[number]): string => {
    const peak = Math.max(0, ...s.values);
    const total = s.name === 'resets' ? s.values.reduce((a, b) => a + b, 0) : null;
    return peak === 0 ? 'none' : `peak ${count(peak)} ${s.peakWord}${total !== null ? `, ${count(total)} in all` : ''}`;
  };
  // The figures are never cut: their column is as wide as the widest; the description yields to them.
  const statsW = Math.max(...series.map((s) => statsOf(s).length));
  for (const s of series) {
    const peak = Math.max(0, ...s.values);
    lines.push(blank);
    lines.push([seg(pad(s.name, 12), { bold: true, color: s.color }), seg(padStart(statsOf(s), statsW), { bold: peak > 0 }), seg(`  ${s.what}`, { dim: true })]);
    for (const row of columnChart(s.values, chartH, peak)) lines.push([seg(' '), seg(row, { color: s.color })]);
  }
  const l = `+0`;
  const r = `+${duration(end - start)}`;
  lines.push([seg(' ' + l + ' '.repeat(Math.max(1, chartW - l.length - r.length)) + r, { dim: true })]);
  return { lines, nav: noNav(0, height), hints: HINTS };
}
