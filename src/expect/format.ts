/**
 * Expectation files (docs/expectations.md): what `teardown check` asserts about one capture. `x.pcap` is paired
 * with `x.expect.json` next to it. This module holds the parsed, validated form; load.ts reads and validates the
 * JSON, selector.ts matches connections, detail.ts matches finding details, update.ts writes files from a Report.
 */
import type { EndpointState, FindingKind, FlowKey, Severity, Side, Teardown } from '../model/report.js';

/** The only version this build reads and writes. A file with a higher version was written by a newer teardown. */
export const EXPECTATION_VERSION = 1;

/** `x.pcap` → `x.expect.json`. */
export const EXPECTATION_SUFFIX = '.expect.json';

/**
 * Which connection(s) an entry is about. Every given field must match; an empty selector matches every connection.
 * Endpoints are compared by value (`::1` = `0:0:0:0:0:0:0:1`); an endpoint without a port matches the address only.
 */
export interface ConnectionSelector {
  /** Connection id from the report ('c3'): stable for the same capture, changes when the capture changes. */
  id?: string;
  /** Both endpoints with ports, in either order (client→server or server→client). */
  tuple?: [SelectorEndpoint, SelectorEndpoint];
  client?: SelectorEndpoint;
  server?: SelectorEndpoint;
  clientPort?: number;
  serverPort?: number;
  /** 0-based incarnation on the 4-tuple. */
  incarnation?: number;
}

export interface SelectorEndpoint {
  /** Normalized text as the report prints it (formatAddress), without the port. */
  address: string;
  /** -1 when only the address is given. */
  port: number;
  /** The text as written, for messages. */
  text: string;
}

/** `>= 30`, `< 1.5`, `== 2`, `!= 0`: a numeric comparison (also used by `count`). */
export interface Comparison {
  op: '>=' | '<=' | '>' | '<' | '==' | '!=';
  value: number;
  text: string;
}

/**
 * A detail matcher: a literal (string, boolean, null, number: equal), a comparison string (`">= 30"`), an object
 * (each key matched recursively, other keys of the actual object ignored) or an array (same length, element-wise).
 */
export type DetailMatcher =
  | { type: 'literal'; value: string | number | boolean | null }
  | { type: 'compare'; cmp: Comparison }
  | { type: 'object'; keys: Record<string, DetailMatcher> }
  | { type: 'array'; items: DetailMatcher[] };

export interface FindingExpectation {
  kind: FindingKind;
  /** Absent: any connection. */
  connection: ConnectionSelector | null;
  /** Text of the selector as written (messages, JUnit test names). */
  connectionText: string | null;
  severity: Severity | null;
  details: Record<string, DetailMatcher>;
  /** How many matching findings: an exact number (default 1) or a comparison. */
  count: Comparison;
  note: string | null;
}

export interface ConnectionExpectation {
  connection: ConnectionSelector;
  connectionText: string;
  teardown: Teardown | null;
  /** undefined: not checked; null: expects no closer. */
  closer: Side | 'both' | null | undefined;
  ending: string | null;
  handshake: 'complete' | 'syn-only' | 'syn-ack-only' | 'midstream' | null;
  states: { client: EndpointState | null; server: EndpointState | null };
  /** How many connections the selector matches: absent means at least one (every match is checked). */
  count: Comparison | null;
  note: string | null;
}

/** Analysis settings the verdicts were made with; they win over command-line flags. */
export interface ExpectationSettings {
  halfCloseTimeout?: number;
  /** Seconds, or a profile name (linux, freebsd/bsd, macos, windows, rfc). */
  timeWait?: number | string;
  /** The flow key (tuple, tuple+vlan, tuple+interface): a capture whose meaning needs strict separation says so. */
  flowKey?: FlowKey;
}

export interface Expectation {
  version: 1;
  description: string | null;
  settings: ExpectationSettings;
  /** What unconsumed findings do: fail the check, or pass unremarked (listed as notes). */
  unexpected: 'fail' | 'ignore';
  /** With unexpected 'fail': only unexpected findings at or above this severity fail. */
  unexpectedSeverity: Severity;
  /** The capture is known to be cut off or damaged; without this a damaged capture is an input error. */
  truncated: boolean;
  connections: ConnectionExpectation[];
  findings: FindingExpectation[];
  /** The file it came from, when loaded from one. */
  path: string | null;
}
