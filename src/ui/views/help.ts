/** The `?` help: rendered from the keymap table (so it is always right), then the finding kinds' meanings. */
import { FINDING_KINDS } from '../../model/report.js';
import { CATALOG } from '../../findings/catalog.js';
import { FILTER_KEYMAP, KEYMAP, WHERE_TITLES } from '../keymap.js';
import type { Binding, Where } from '../keymap.js';
import { pad, seg, wrap } from '../text.js';
import type { Line } from '../text.js';
import { blank, noNav, SEVERITY_COLOR } from './common.js';
import type { Screen, ScreenInput } from './common.js';

const ORDER: readonly Where[] = ['everywhere', 'lists', 'findings', 'connection', 'overview'];

export function helpLines(width: number): Line[] {
  const lines: Line[] = [[seg('Keys', { bold: true }), seg('   (? or Esc closes this help; ↑↓ scroll it)', { dim: true })]];
  const labelW = Math.max(...[...KEYMAP, ...FILTER_KEYMAP].map((b) => b.label.length)) + 2;
  const section = (name: string, bindings: readonly Binding<string>[]) => {
    if (bindings.length === 0) return;
    lines.push([seg(name, { bold: true, color: 'cyan' })]);
    for (const b of bindings) lines.push([seg(`  ${pad(b.label, labelW)}`, { bold: true }), seg(b.help)]);
  };
  for (const w of ORDER) section(WHERE_TITLES[w], KEYMAP.filter((b) => b.where === w));
  section('While typing a filter', FILTER_KEYMAP);
  lines.push(blank, [seg('Finding kinds', { bold: true }), seg('   colour = usual severity: ', { dim: true }),
    seg('error ', { color: 'red' }), seg('warn ', { color: 'yellow' }), seg('info', { color: 'cyan' })]);
  for (const k of FINDING_KINDS) {
    const e = CATALOG[k];
    lines.push([seg(`  ${k}`, { bold: true, color: SEVERITY_COLOR[e.severity] }), seg(`  ${e.title}`)]);
    for (const t of wrap(e.explanation, width - 6)) lines.push([seg(`      ${t}`, { dim: true })]);
  }
  return lines;
}

export function helpScreen({ state, width, height }: ScreenInput): Screen {
  const all = helpLines(width);
  const page = Math.max(1, height);
  const scroll = Math.min(state.helpScroll, Math.max(0, all.length - page));
  return { lines: all.slice(scroll, scroll + page), nav: noNav(all.length, page), hints: '↑↓ scroll · ? or Esc close · q quit' };
}
