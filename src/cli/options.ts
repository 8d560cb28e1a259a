import type { FlowKey, Settings, Severity } from '../model/report.js';
import { TIME_WAIT_PROFILES } from '../model/settings.js';
import { UsageError } from './errors.js';

/**
 * A decimal number as a person writes it (`60`, `0.5`, `.25`); null for anything else: empty text, hex (`0x10`),
 * exponents, signs, spaces, `Infinity` — forms that Number() would quietly accept as 0, 16 or 1000.
 */
export function decimal(v: string): number | null {
  return /^(\d+(\.\d*)?|\.\d+)$/.test(v) ? Number(v) : null;
}

/** `--half-close-timeout 60`, `60s`, `0.5`: seconds (above 0 when `positive`). */
export function seconds(name: string, positive = false) {
  return (v: string): number => {
    const n = decimal(v.replace(/s$/, ''));
    if (n === null || (positive && n <= 0)) throw new UsageError(`${name} takes a number of seconds${positive ? ' above 0' : ''} (like 60 or 0.5), not '${v}'`);
    return n;
  };
}

/** A whole decimal number, at least `min`. */
export function wholeNumber(name: string, min = 0, what = 'a whole number') {
  return (v: string): number => {
    const n = /^\d+$/.test(v) ? Number(v) : null;
    if (n === null || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} takes ${what}${min === 1 ? ' above 0' : min > 0 ? ` of at least ${min}` : ''}, not '${v}'`);
    return n;
  };
}

/** `--time-wait 60`, `--time-wait windows`: seconds or a profile name (docs/rules.md §6.4 profiles). */
export function timeWait(v: string): { seconds: number; profile: string } {
  const key = v === 'bsd' ? 'freebsd' : v;
  const p = TIME_WAIT_PROFILES[key];
  if (p !== undefined) return { seconds: p, profile: key };
  const n = decimal(v.replace(/s$/, ''));
  if (n === null) throw new UsageError(`--time-wait takes seconds (like 60) or a profile (${[...Object.keys(TIME_WAIT_PROFILES), 'bsd'].join(', ')}), not '${v}'`);
  return { seconds: n, profile: 'custom' };
}

export function severity(v: string): Severity {
  if (v === 'info' || v === 'warn' || v === 'error') return v;
  throw new UsageError(`--fail-on takes info, warn or error, not '${v}'`);
}

export interface CommonAnalysisFlags {
  halfCloseTimeout?: number;
  timeWait?: { seconds: number; profile: string };
  flowKey?: FlowKey;
}

export function settingsFrom(o: CommonAnalysisFlags): Partial<Settings> {
  const s: Partial<Settings> = {};
  if (o.flowKey !== undefined) s.flowKey = o.flowKey;
  if (o.halfCloseTimeout !== undefined) s.halfCloseTimeout = o.halfCloseTimeout;
  if (o.timeWait !== undefined) { s.timeWait = o.timeWait.seconds; s.timeWaitProfile = o.timeWait.profile; }
  return s;
}


/** `--shard K/N`: 0 ≤ K < N (K as Kubernetes' JOB_COMPLETION_INDEX counts). */
export function shard(v: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(n) || n < 1 || k >= n) throw new UsageError(`--shard takes K/N with 0 ≤ K < N (e.g. 0/4), not '${v}'`);
  return { k, n };
}
