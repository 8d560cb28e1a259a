import type { Severity } from './report.js';

/** Severities in order, lowest first: info < warn < error. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warn: 1, error: 2 };

/** `s` is at least as severe as `min` (--fail-on, an expectation's unexpectedSeverity). */
export const atLeast = (s: Severity, min: Severity): boolean => SEVERITY_RANK[s] >= SEVERITY_RANK[min];
