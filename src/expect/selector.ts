/**
 * Connection selectors: which connection(s) of a report an expectation entry (or `teardown extract --connection`)
 * is about. Text forms: an id (`c3`), or a 4-tuple in either order with an optional incarnation
 * (`127.0.0.1:41009 -> 127.0.0.1:5009`, `[::1]:5000,[::1]:40000 #1`; separators `->`, `→`, `<->`, `-`, `,`, space).
 */
import { endpointText, type Endpoint } from '../model/endpoint.js';
import type { ConnectionReport } from '../model/report.js';
import { formatAddress, parseEndpoint } from '../decode/format.js';
import type { ConnectionSelector, SelectorEndpoint } from './format.js';

/** Parses `a.b.c.d[:port]` / `[v6][:port]` / bare v6; null when it is not an endpoint. */
export function parseSelectorEndpoint(text: string): SelectorEndpoint | null {
  const e = parseEndpoint(text);
  if (e === null) return null;
  return { address: formatAddress(e.ipVersion, e.words), port: e.port, text: text.trim() };
}

const ID = /^c\d+$/;
const SEPARATOR = /\s*(?:<->|->|→|↔|,|\s)\s*|(?<=\d|\])-(?=\d|\[)/;

export interface ParsedTuple {
  tuple: [SelectorEndpoint, SelectorEndpoint];
  incarnation: number | null;
}

/**
 * `a:p -> b:p [#n]`: two endpoints with ports in either order. Null when the text is not a tuple; an Error (with
 * the reason) when it looks like one but is wrong.
 */
export function parseTuple(text: string): ParsedTuple | Error | null {
  let s = text.trim();
  let incarnation: number | null = null;
  const inc = /\s*#(\d+)$/.exec(s);
  if (inc !== null) {
    incarnation = Number(inc[1]);
    s = s.slice(0, inc.index);
  }
  const parts = s.split(SEPARATOR).filter((p) => p !== undefined && p !== '');
  if (parts.length !== 2) return null;
  const a = parseSelectorEndpoint(parts[0]!);
  const b = parseSelectorEndpoint(parts[1]!);
  if (a === null || b === null) return null;
  if (a.port < 0 || b.port < 0) return new Error(`a tuple needs both ports ('${text.trim()}')`);
  return { tuple: [a, b], incarnation };
}

/** A selector from its text form: an id or a tuple. Throws an Error naming what is wrong. */
export function parseSelectorText(text: string): ConnectionSelector {
  const s = text.trim();
  if (ID.test(s)) return { id: s };
  const t = parseTuple(s);
  if (t instanceof Error) throw t;
  if (t === null) {
    throw new Error(`'${s}' is neither a connection id (c3) nor a 4-tuple (10.0.0.1:40000 -> 10.0.0.2:80, optional #incarnation)`);
  }
  return t.incarnation === null ? { tuple: t.tuple } : { tuple: t.tuple, incarnation: t.incarnation };
}

function sameEndpoint(want: SelectorEndpoint, have: Endpoint): boolean {
  return want.address === have.address && (want.port < 0 || want.port === have.port);
}

export function matchesConnection(sel: ConnectionSelector, c: ConnectionReport): boolean {
  if (sel.id !== undefined && sel.id !== c.id) return false;
  if (sel.incarnation !== undefined && sel.incarnation !== c.incarnation) return false;
  if (sel.clientPort !== undefined && sel.clientPort !== c.client.port) return false;
  if (sel.serverPort !== undefined && sel.serverPort !== c.server.port) return false;
  if (sel.client !== undefined && !sameEndpoint(sel.client, c.client)) return false;
  if (sel.server !== undefined && !sameEndpoint(sel.server, c.server)) return false;
  if (sel.tuple !== undefined) {
    const [a, b] = sel.tuple;
    const forward = sameEndpoint(a, c.client) && sameEndpoint(b, c.server);
    const backward = sameEndpoint(a, c.server) && sameEndpoint(b, c.client);
    if (!forward && !backward) return false;
  }
  return true;
}

export function selectConnections(sel: ConnectionSelector, conns: readonly ConnectionReport[]): ConnectionReport[] {
  return conns.filter((c) => matchesConnection(sel, c));
}

/** A short human form: `c3`, `127.0.0.1:41009 ↔ 127.0.0.1:5009 #1`, `server 10.0.0.2:80`, `any connection`. */
export function selectorText(sel: ConnectionSelector | null): string {
  if (sel === null) return 'any connection';
  const parts: string[] = [];
  if (sel.id !== undefined) parts.push(sel.id);
  if (sel.tuple !== undefined) parts.push(`${sel.tuple[0].text} ↔ ${sel.tuple[1].text}`);
  if (sel.client !== undefined) parts.push(`client ${sel.client.text}`);
  if (sel.server !== undefined) parts.push(`server ${sel.server.text}`);
  if (sel.clientPort !== undefined) parts.push(`client port ${sel.clientPort}`);
  if (sel.serverPort !== undefined) parts.push(`server port ${sel.serverPort}`);
  if (sel.incarnation !== undefined) parts.push(`#${sel.incarnation}`);
  return parts.length === 0 ? 'any connection' : parts.join(' ');
}

/** One line naming a connection: `c3 127.0.0.1:41009 → 127.0.0.1:5009 #1`. */
export function connectionText(c: ConnectionReport): string {
  return `${c.id} ${endpointText(c.client)} → ${endpointText(c.server)} #${c.incarnation}`;
}

const endKey = (e: SelectorEndpoint | Endpoint): string => `${e.address}|${e.port}`;

/**
 * Selector lookups over many connections: ids and full client/server (or tuple) endpoints go through maps, other
 * selectors scan. Same results as selectConnections(), in capture order.
 */
export class ConnectionIndex {
  private readonly byId = new Map<string, ConnectionReport>();
  private readonly byPair = new Map<string, ConnectionReport[]>();

  constructor(readonly connections: readonly ConnectionReport[]) {
    for (const c of connections) {
      this.byId.set(c.id, c);
      const k = `${endKey(c.client)}>${endKey(c.server)}`;
      const list = this.byPair.get(k);
      if (list === undefined) this.byPair.set(k, [c]);
      else list.push(c);
    }
  }

  get(id: string): ConnectionReport | undefined {
    return this.byId.get(id);
  }

  select(sel: ConnectionSelector): ConnectionReport[] {
    let pool: readonly ConnectionReport[];
    if (sel.id !== undefined) {
      const c = this.byId.get(sel.id);
      pool = c === undefined ? [] : [c];
    } else if (sel.client !== undefined && sel.server !== undefined && sel.client.port >= 0 && sel.server.port >= 0) {
      pool = this.byPair.get(`${endKey(sel.client)}>${endKey(sel.server)}`) ?? [];
    } else if (sel.tuple !== undefined) {
      const [a, b] = sel.tuple;
      const fwd = this.byPair.get(`${endKey(a)}>${endKey(b)}`) ?? [];
      const rev = endKey(a) === endKey(b) ? [] : this.byPair.get(`${endKey(b)}>${endKey(a)}`) ?? [];
      pool = rev.length === 0 ? fwd : [...fwd, ...rev].sort((x, y) => x.firstFrame - y.firstFrame);
    } else {
      pool = this.connections;
    }
    return pool.filter((c) => matchesConnection(sel, c));
  }
}
