/**
 * Detail matchers and numeric comparisons. A matcher is written as plain JSON in the expectation file:
 *   "stuckSide": "server"          literal (strings, booleans, null, numbers compare with ===)
 *   "ageSeconds": ">= 30"          comparison: >=, <=, >, <, ==, != followed by a number (the actual must be a number)
 *   "expected": { "linux": false } object: the listed keys only, recursively
 *   "profiles": ["rfc 240 s"]      array: same length, element by element
 */
import type { Comparison, DetailMatcher } from './format.js';

const COMPARISON = /^\s*(>=|<=|==|!=|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

/** `">= 30"` → a Comparison; null when the text is not one. */
export function parseComparison(text: string): Comparison | null {
  const m = COMPARISON.exec(text);
  if (m === null) return null;
  const value = Number(m[2]);
  if (!Number.isFinite(value)) return null;
  return { op: m[1] as Comparison['op'], value, text: `${m[1]} ${m[2]}` };
}

export function exactly(n: number): Comparison {
  return { op: '==', value: n, text: `${n}` };
}

export function compare(cmp: Comparison, x: number): boolean {
  switch (cmp.op) {
    case '>=': return x >= cmp.value;
    case '<=': return x <= cmp.value;
    case '>': return x > cmp.value;
    case '<': return x < cmp.value;
    case '==': return x === cmp.value;
    case '!=': return x !== cmp.value;
  }
}

/** Parses a matcher; throws an Error with a message relative to `where` (e.g. `findings[2].details.isn`). */
export function parseMatcher(v: unknown, where: string): DetailMatcher {
  if (v === null || typeof v === 'boolean') return { type: 'literal', value: v };
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${where}: not a finite number`);
    return { type: 'literal', value: v };
  }
  if (typeof v === 'string') {
    const cmp = parseComparison(v);
    if (cmp !== null) return { type: 'compare', cmp };
    if (/^\s*(>=|<=|==|!=|>|<)/.test(v)) throw new Error(`${where}: '${v}' starts like a comparison but is not one (write e.g. ">= 30")`);
    return { type: 'literal', value: v };
  }
  if (Array.isArray(v)) return { type: 'array', items: v.map((x, i) => parseMatcher(x, `${where}[${i}]`)) };
  if (typeof v === 'object') {
    const keys: Record<string, DetailMatcher> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) keys[k] = parseMatcher(x, `${where}.${k}`);
    return { type: 'object', keys };
  }
  throw new Error(`${where}: unsupported value`);
}

/** One way an actual value differs from its matcher. `path` is relative to the details object (`isn`, `expected.linux`). */
export interface DetailMismatch {
  path: string;
  /** The matcher as text: `"lower"`, `>= 30`, `true`. */
  expected: string;
  /** The actual value as JSON text, or `(absent)`. */
  actual: string;
}

export function matcherText(m: DetailMatcher): string {
  switch (m.type) {
    case 'literal': return JSON.stringify(m.value);
    case 'compare': return m.cmp.text;
    case 'array': return `[${m.items.map(matcherText).join(', ')}]`;
    case 'object': return `{ ${Object.entries(m.keys).map(([k, x]) => `${k}: ${matcherText(x)}`).join(', ')} }`;
  }
}

export function valueText(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Math.round(v * 1e6) / 1e6);
  return JSON.stringify(v) ?? String(v);
}

/** Appends every mismatch of `actual` against `m` to `out`. */
export function matchValue(m: DetailMatcher, actual: unknown, path: string, out: DetailMismatch[]): void {
  const miss = (): void => { out.push({ path, expected: matcherText(m), actual: valueText(actual) }); };
  switch (m.type) {
    case 'literal':
      if (m.value === null ? actual !== null && actual !== undefined : actual !== m.value) miss();
      return;
    case 'compare':
      if (typeof actual !== 'number' || !compare(m.cmp, actual)) miss();
      return;
    case 'array':
      if (!Array.isArray(actual) || actual.length !== m.items.length) { miss(); return; }
      m.items.forEach((x, i) => matchValue(x, actual[i], `${path}[${i}]`, out));
      return;
    case 'object':
      if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) { miss(); return; }
      for (const [k, x] of Object.entries(m.keys)) matchValue(x, (actual as Record<string, unknown>)[k], `${path}.${k}`, out);
      return;
  }
}

/** Every mismatch of a finding's details against the expected detail matchers (empty: they match). */
export function matchDetails(expected: Record<string, DetailMatcher>, actual: Record<string, unknown>): DetailMismatch[] {
  const out: DetailMismatch[] = [];
  for (const [k, m] of Object.entries(expected)) matchValue(m, actual[k], k, out);
  return out;
}
