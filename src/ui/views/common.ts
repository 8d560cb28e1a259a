/** What every view builds: its lines at the body's exact size, and the facts navigation needs. */
import type { Severity } from '../../model/report.js';
import type { UiSnapshot } from '../store.js';
import { seg } from '../text.js';
import type { Color, Line, Seg } from '../text.js';
import type { NavContext, ViewState } from '../view-state.js';

export interface ScreenInput {
  snap: UiSnapshot;
  state: ViewState;
  width: number;
  /** Rows available for the body. */
  height: number;
}

export interface Screen {
  lines: Line[];
  nav: NavContext;
  /** Key hints for the footer. */
  hints: string;
}

export const SEVERITY_COLOR: Record<Severity, Color> = { error: 'red', warn: 'yellow', info: 'cyan' };

export const sevSeg = (s: Severity, width = 5): Seg => seg(s.padEnd(width), { color: SEVERITY_COLOR[s], bold: s === 'error' });

export const noNav = (count = 0, page = 1): NavContext => ({
  count, page, kinds: [], target: null, incarnations: { previous: null, next: null },
});

/** Seconds since the capture start, `+12.345678` (fewer decimals for long captures). */
export function offset(t: number, first: number | null): string {
  const d = t - (first ?? t);
  return `+${d.toFixed(d < 1000 ? 6 : 3)}`;
}

/** A section title line. */
export const title = (t: string, extra = ''): Line => [seg(t, { bold: true }), ...(extra ? [seg(`  ${extra}`, { dim: true })] : [])];

export const blank: Line = [];

/** Selected rows are drawn inverse across the whole width. */
export function selected(line: Line, on: boolean): Line {
  return on ? line.map((s) => ({ ...s, inverse: true })) : line;
}
