/**
 * Lines for the terminal UI: a line is a list of styled segments that the views build at an exact width, so the
 * layout never depends on the terminal wrapping text. Pure string helpers only.
 */

export type Color = 'red' | 'yellow' | 'cyan' | 'green' | 'blue' | 'magenta' | 'gray' | 'white';

export interface Seg {
  t: string;
  color?: Color;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}

export type Line = Seg[];

export const seg = (t: string, style: Omit<Seg, 't'> = {}): Seg => ({ t, ...style });

export function lineWidth(line: Line): number {
  let n = 0;
  for (const s of line) n += s.t.length;
  return n;
}

/** Cut a line to `width` characters, marking the cut with '…'. */
export function fitLine(line: Line, width: number): Line {
  if (width <= 0) return [];
  if (lineWidth(line) <= width) return line;
  const out: Line = [];
  let left = width - 1;
  for (const s of line) {
    if (left <= 0) break;
    if (s.t.length <= left) { out.push(s); left -= s.t.length; continue; }
    out.push({ ...s, t: s.t.slice(0, left) });
    left = 0;
  }
  const last = out[out.length - 1];
  out.push({ t: '…', ...(last?.color ? { color: last.color } : {}), ...(last?.inverse ? { inverse: true } : {}) });
  return out;
}

/** Pad a line with spaces (carrying the last segment's inverse style, for selection bars) to exactly `width`. */
export function padLine(line: Line, width: number): Line {
  const fitted = fitLine(line, width);
  const w = lineWidth(fitted);
  if (w >= width) return fitted;
  const last = fitted[fitted.length - 1];
  return [...fitted, { t: ' '.repeat(width - w), ...(last?.inverse ? { inverse: true } : {}) }];
}

export function clip(s: string, width: number): string {
  if (width <= 0) return '';
  return s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`;
}

export const pad = (s: string, width: number): string => (s.length >= width ? clip(s, width) : s + ' '.repeat(width - s.length));
export const padStart = (s: string, width: number): string => (s.length >= width ? clip(s, width) : ' '.repeat(width - s.length) + s);

/** Word-wrap to `width`; words longer than a line are cut hard. Never returns an empty array. */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let cur = '';
    for (const word of para.split(/\s+/).filter((x) => x.length > 0)) {
      let rest = word;
      while (rest.length > w) {
        if (cur) { out.push(cur); cur = ''; }
        out.push(rest.slice(0, w));
        rest = rest.slice(w);
      }
      if (!cur) cur = rest;
      else if (cur.length + 1 + rest.length <= w) cur += ` ${rest}`;
      else { out.push(cur); cur = rest; }
    }
    out.push(cur);
  }
  return out;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Seconds as m:ss (or h:mm:ss), for elapsed time and estimates. */
export function clock(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** A horizontal bar of `width` cells filled to `fraction` (eighth-block resolution). */
export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = eighths % 8;
  const PARTS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
  const s = '█'.repeat(full) + (part > 0 ? PARTS[part] ?? '' : '');
  return s + '░'.repeat(Math.max(0, width - s.length));
}

const SPARK = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * Rows of a vertical bar chart, top row first: each value is a column `height` cells tall scaled to `max`.
 * A non-zero value always shows at least one eighth.
 */
export function columnChart(values: readonly number[], height: number, max: number): string[] {
  const rows: string[] = [];
  const h = Math.max(1, height);
  const m = max > 0 ? max : 1;
  const eighths = values.map((v) => (v <= 0 ? 0 : Math.max(1, Math.round((v / m) * h * 8))));
  for (let r = 0; r < h; r++) {
    const floor = (h - 1 - r) * 8;
    let row = '';
    for (const e of eighths) row += SPARK[Math.min(8, Math.max(0, e - floor))] ?? ' ';
    rows.push(row);
  }
  return rows;
}
