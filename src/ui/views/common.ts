/** What every view builds: its lines at the body's exact size, and the facts navigation needs. */
import type { Severity } from '../../model/report.js';
import { duration, isoTime } from '../../report/format.js';
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

/**
 * Time since the capture start in a form that stays readable and fits its column however long the capture:
 * `+12.345678` (seconds) under 1000 s, `+2:03:04.567` under a day, `+3d 04:05:06` beyond. `span` is the capture's
 * length, so that every row of a list uses the same form.
 */
export function offset(t: number, first: number | null, span: number): string {
  const d = Math.max(0, t - (first ?? t));
  if (span < 1000) return `+${d.toFixed(6)}`;
  const two = (n: number) => String(n).padStart(2, '0');
  if (span < 86400) {
    const ms = Math.round(d * 1000);
    const h = Math.floor(ms / 3_600_000);
    const m = Math.floor((ms % 3_600_000) / 60_000);
    const sec = (ms % 60_000) / 1000;
    return `+${h}:${two(m)}:${sec.toFixed(3).padStart(6, '0')}`;
  }
  const s = Math.floor(d);
  return `+${Math.floor(s / 86400)}d ${two(Math.floor((s % 86400) / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}

/** What offset() shows after its digits: ' s' for plain seconds, nothing for clock forms. */
export const offsetUnit = (span: number): string => (span < 1000 ? ' s' : '');

/** The widest offset() of a capture `span` seconds long (its column width). */
export const offsetWidth = (span: number): number => offset(span, 0, span).length;

/** `2026-11-21 08:48:50.607 → 08:48:51.150 UTC (542.66 ms)`; the end carries its date when it is another day. */
export function timeSpan(first: number, last: number): string {
  const a = isoTime(first).slice(0, 23);
  const b = isoTime(last).slice(0, 23);
  return `${a} → ${a.slice(0, 10) === b.slice(0, 10) ? b.slice(11) : b} UTC (${duration(Math.max(0, last - first))})`;
}

/** A section title line. */
export const title = (t: string, extra = ''): Line => [seg(t, { bold: true }), ...(extra ? [seg(`  ${extra}`, { dim: true })] : [])];

export const blank: Line = [];

/** Selected rows are drawn inverse across the whole width. */
export function selected(line: Line, on: boolean): Line {
  return on ? line.map((s) => ({ ...s, inverse: true })) : line;
}
