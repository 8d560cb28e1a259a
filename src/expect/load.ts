/**
 * Reading and validating expectation files. Validation is strict about structure (unknown keys are typos and are
 * reported with their place in the file) and free about finding details (they are the engine's, matched as given).
 * Keys starting with `$` (e.g. `$comment`) are ignored everywhere.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { EndpointState, FindingKind, Severity, Side, Teardown } from '../model/report.js';
import { FINDING_KINDS, FLOW_KEYS } from '../model/report.js';
import { TIME_WAIT_PROFILES } from '../model/settings.js';
import { exactly, parseComparison, parseMatcher } from './detail.js';
import { EXPECTATION_SUFFIX, EXPECTATION_VERSION } from './format.js';
import type { Comparison, ConnectionExpectation, ConnectionSelector, DetailMatcher, Expectation, ExpectationSettings, FindingExpectation } from './format.js';
import { parseSelectorEndpoint, parseSelectorText, parseTuple, selectorText } from './selector.js';

/** An expectation file that cannot be used: unreadable, not JSON, or not valid. `oneLine()` names file and place. */
export class ExpectationError extends Error {
  override readonly name = 'ExpectationError';
  constructor(message: string, readonly file: string | null) {
    super(message);
  }
  oneLine(): string {
    return this.file === null ? this.message : `${this.file}: ${this.message}`;
  }
}

const SEVERITIES: readonly Severity[] = ['info', 'warn', 'error'];
const TEARDOWNS: readonly Teardown[] = ['fin', 'rst', 'half-close', 'refused', 'open', 'none'];
const CLOSERS: readonly (Side | 'both')[] = ['client', 'server', 'both'];
const HANDSHAKES = ['complete', 'syn-only', 'syn-ack-only', 'midstream'] as const;
const STATES: readonly EndpointState[] = [
  'UNKNOWN', 'LISTEN', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSING', 'TIME_WAIT',
  'CLOSE_WAIT', 'LAST_ACK', 'CLOSED', 'RESET', 'MIDSTREAM',
];

/** Capture file extensions `check` recognizes in directories (gzip-compressed forms included). */
const CAPTURE_EXT = /\.(pcap|pcapng|cap|dmp)(\.gz)?$/i;

export function isCaptureName(name: string): boolean {
  return CAPTURE_EXT.test(name) && !name.endsWith(EXPECTATION_SUFFIX);
}

/** `dir/x.pcap` (also x.pcapng, x.pcap.gz, x) → `dir/x.expect.json`. */
export function expectationPathFor(capture: string): string {
  const base = basename(capture);
  const m = CAPTURE_EXT.exec(base);
  let stem = m !== null ? base.slice(0, m.index) : base.replace(/\.gz$/i, '');
  if (stem === '') stem = base;
  return join(dirname(capture), stem + EXPECTATION_SUFFIX);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

class Validator {
  constructor(readonly file: string | null) {}

  fail(where: string, msg: string): never {
    throw new ExpectationError(where === '' ? msg : `${where}: ${msg}`, this.file);
  }

  keys(o: Obj, where: string, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (k.startsWith('$') || allowed.includes(k)) continue;
      const close = allowed.find((a) => a.toLowerCase() === k.toLowerCase());
      this.fail(where, `unknown key '${k}'${close ? ` (did you mean '${close}'?)` : ` (known: ${allowed.join(', ')})`}`);
    }
  }

  oneOf<T extends string>(v: unknown, where: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.fail(where, `${JSON.stringify(v)} is not one of ${values.join(', ')}`);
    }
    return v as T;
  }

  str(v: unknown, where: string): string {
    if (typeof v !== 'string') this.fail(where, 'must be a string');
    return v;
  }

  nonNegInt(v: unknown, where: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(where, 'must be a non-negative integer');
    return v;
  }

  count(v: unknown, where: string): Comparison {
    if (typeof v === 'number') return exactly(this.nonNegInt(v, where));
    if (typeof v === 'string') {
      const c = parseComparison(v);
      if (c !== null) return c;
    }
    return this.fail(where, `must be a number or a comparison such as ">= 1", not ${JSON.stringify(v)}`);
  }

  endpoint(v: unknown, where: string) {
    const e = parseSelectorEndpoint(this.str(v, where));
    if (e === null) this.fail(where, `'${String(v)}' is not an address or address:port ([v6]:port for IPv6)`);
    return e;
  }

  port(v: unknown, where: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) this.fail(where, 'must be a port number (0-65535)');
    return v;
  }

  selector(v: unknown, where: string): { sel: ConnectionSelector; text: string } {
    if (typeof v === 'string') {
      try {
        return { sel: parseSelectorText(v), text: v.trim() };
      } catch (e) {
        this.fail(where, (e as Error).message);
      }
    }
    if (!isObj(v)) this.fail(where, 'must be a connection id, a tuple string, or an object (id, tuple, client, server, clientPort, serverPort, incarnation)');
    this.keys(v, where, ['id', 'tuple', 'client', 'server', 'clientPort', 'serverPort', 'incarnation']);
    const sel: ConnectionSelector = {};
    if (v.id !== undefined) {
      const id = this.str(v.id, `${where}.id`);
      if (!/^c\d+$/.test(id)) this.fail(`${where}.id`, `'${id}' is not a connection id (c1, c2…)`);
      sel.id = id;
    }
    if (v.tuple !== undefined) {
      const t = v.tuple;
      if (typeof t === 'string') {
        const p = parseTuple(t);
        if (p === null) this.fail(`${where}.tuple`, `'${t}' is not a 4-tuple (10.0.0.1:40000 -> 10.0.0.2:80)`);
        if (p instanceof Error) this.fail(`${where}.tuple`, p.message);
        sel.tuple = p.tuple;
        if (p.incarnation !== null) sel.incarnation = p.incarnation;
      } else if (Array.isArray(t) && t.length === 2) {
        const a = this.endpoint(t[0], `${where}.tuple[0]`);
        const b = this.endpoint(t[1], `${where}.tuple[1]`);
        if (a.port < 0 || b.port < 0) this.fail(`${where}.tuple`, 'both endpoints need a port');
        sel.tuple = [a, b];
      } else {
        this.fail(`${where}.tuple`, 'must be "a:port -> b:port" or a two-element array');
      }
    }
    if (v.client !== undefined) sel.client = this.endpoint(v.client, `${where}.client`);
    if (v.server !== undefined) sel.server = this.endpoint(v.server, `${where}.server`);
    if (v.clientPort !== undefined) sel.clientPort = this.port(v.clientPort, `${where}.clientPort`);
    if (v.serverPort !== undefined) sel.serverPort = this.port(v.serverPort, `${where}.serverPort`);
    if (v.incarnation !== undefined) sel.incarnation = this.nonNegInt(v.incarnation, `${where}.incarnation`);
    return { sel, text: selectorText(sel) };
  }

  settings(v: unknown, where: string): ExpectationSettings {
    if (!isObj(v)) this.fail(where, 'must be an object (halfCloseTimeout, timeWait, flowKey)');
    this.keys(v, where, ['halfCloseTimeout', 'timeWait', 'flowKey']);
    const s: ExpectationSettings = {};
    if (v.halfCloseTimeout !== undefined) {
      if (typeof v.halfCloseTimeout !== 'number' || !(v.halfCloseTimeout >= 0)) this.fail(`${where}.halfCloseTimeout`, 'must be a number of seconds');
      s.halfCloseTimeout = v.halfCloseTimeout;
    }
    if (v.timeWait !== undefined) {
      const tw = v.timeWait;
      if (typeof tw === 'number' && tw >= 0) s.timeWait = tw;
      else if (typeof tw === 'string' && (TIME_WAIT_PROFILES[tw === 'bsd' ? 'freebsd' : tw] !== undefined)) s.timeWait = tw;
      else this.fail(`${where}.timeWait`, `must be seconds or a profile (${Object.keys(TIME_WAIT_PROFILES).join(', ')})`);
    }
    if (v.flowKey !== undefined) {
      const k = FLOW_KEYS.find((x) => x === v.flowKey);
      if (k === undefined) this.fail(`${where}.flowKey`, `must be one of ${FLOW_KEYS.join(', ')}`);
      s.flowKey = k;
    }
    return s;
  }

  details(v: unknown, where: string): Record<string, DetailMatcher> {
    if (!isObj(v)) this.fail(where, 'must be an object of detail matchers');
    const out: Record<string, DetailMatcher> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('$')) continue;
      try {
        out[k] = parseMatcher(x, `${where}.${k}`);
      } catch (e) {
        throw new ExpectationError((e as Error).message, this.file);
      }
    }
    return out;
  }

  note(v: unknown, where: string): string | null {
    return v === undefined ? null : this.str(v, where);
  }

  finding(v: unknown, where: string): FindingExpectation {
    if (!isObj(v)) this.fail(where, 'must be an object');
    this.keys(v, where, ['kind', 'connection', 'severity', 'details', 'count', 'note']);
    if (v.kind === undefined) this.fail(where, `needs a 'kind' (${FINDING_KINDS.join(', ')})`);
    const kind: FindingKind = this.oneOf(v.kind, `${where}.kind`, FINDING_KINDS);
    const s = v.connection === undefined ? null : this.selector(v.connection, `${where}.connection`);
    return {
      kind,
      connection: s?.sel ?? null,
      connectionText: s?.text ?? null,
      severity: v.severity === undefined ? null : this.oneOf(v.severity, `${where}.severity`, SEVERITIES),
      details: v.details === undefined ? {} : this.details(v.details, `${where}.details`),
      count: v.count === undefined ? exactly(1) : this.count(v.count, `${where}.count`),
      note: this.note(v.note, `${where}.note`),
    };
  }

  connection(v: unknown, where: string): ConnectionExpectation {
    if (!isObj(v)) this.fail(where, 'must be an object');
    this.keys(v, where, ['connection', 'teardown', 'closer', 'ending', 'handshake', 'states', 'count', 'note']);
    if (v.connection === undefined) this.fail(where, "needs a 'connection' selector");
    const s = this.selector(v.connection, `${where}.connection`);
    let closer: ConnectionExpectation['closer'];
    if (v.closer === null) closer = null;
    else if (v.closer !== undefined) closer = this.oneOf(v.closer, `${where}.closer`, CLOSERS);
    const states: ConnectionExpectation['states'] = { client: null, server: null };
    if (v.states !== undefined) {
      if (!isObj(v.states)) this.fail(`${where}.states`, 'must be an object (client, server)');
      this.keys(v.states, `${where}.states`, ['client', 'server']);
      if (v.states.client !== undefined) states.client = this.oneOf(v.states.client, `${where}.states.client`, STATES);
      if (v.states.server !== undefined) states.server = this.oneOf(v.states.server, `${where}.states.server`, STATES);
    }
    return {
      connection: s.sel,
      connectionText: s.text,
      teardown: v.teardown === undefined ? null : this.oneOf(v.teardown, `${where}.teardown`, TEARDOWNS),
      closer,
      ending: v.ending === undefined ? null : this.str(v.ending, `${where}.ending`),
      handshake: v.handshake === undefined ? null : this.oneOf(v.handshake, `${where}.handshake`, HANDSHAKES),
      states,
      count: v.count === undefined ? null : this.count(v.count, `${where}.count`),
      note: this.note(v.note, `${where}.note`),
    };
  }

  list<T>(v: unknown, where: string, each: (x: unknown, w: string) => T): T[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(where, 'must be an array');
    return v.map((x, i) => each(x, `${where}[${i}]`));
  }
}

/** Validates parsed JSON as an expectation. Throws ExpectationError naming the place (`findings[2].kind: …`). */
export function parseExpectation(json: unknown, file: string | null = null): Expectation {
  const v: Validator = new Validator(file);
  if (!isObj(json)) v.fail('', 'an expectation file holds one JSON object');
  if (json.version === undefined) v.fail('', `no "version" (this teardown writes version ${EXPECTATION_VERSION})`);
  if (json.version !== EXPECTATION_VERSION) {
    const newer = typeof json.version === 'number' && json.version > EXPECTATION_VERSION;
    v.fail('version', `${JSON.stringify(json.version)} is not supported: this teardown reads version ${EXPECTATION_VERSION}${newer ? ' (the file was written by a newer teardown)' : ''}`);
  }
  v.keys(json, '', ['version', 'description', 'settings', 'unexpected', 'unexpectedSeverity', 'truncated', 'connections', 'findings']);
  if (json.truncated !== undefined && typeof json.truncated !== 'boolean') v.fail('truncated', 'must be true or false');
  return {
    version: 1,
    description: json.description === undefined ? null : v.str(json.description, 'description'),
    settings: json.settings === undefined ? {} : v.settings(json.settings, 'settings'),
    unexpected: json.unexpected === undefined ? 'fail' : v.oneOf(json.unexpected, 'unexpected', ['fail', 'ignore'] as const),
    unexpectedSeverity: json.unexpectedSeverity === undefined ? 'info' : v.oneOf(json.unexpectedSeverity, 'unexpectedSeverity', SEVERITIES),
    truncated: json.truncated === true,
    connections: v.list(json.connections, 'connections', (x, w) => v.connection(x, w)),
    findings: v.list(json.findings, 'findings', (x, w) => v.finding(x, w)),
    path: file,
  };
}

/** Parses expectation JSON text. */
export function parseExpectationText(text: string, file: string | null = null): Expectation {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ExpectationError(`not valid JSON (${(e as Error).message})`, file);
  }
  return parseExpectation(json, file);
}

/** Reads and validates an expectation file. Null when it does not exist; ExpectationError when it is not usable. */
export async function loadExpectation(path: string): Promise<Expectation | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new ExpectationError(`cannot read: ${code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`, path);
  }
  return parseExpectationText(text, path);
}
