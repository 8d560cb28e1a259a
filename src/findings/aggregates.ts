import { endpointText, type Endpoint } from '../model/endpoint.js';
import type { ConnectionReport, Finding, PairAggregate, ServerAggregate, Teardown } from '../model/report.js';

/** Sweep over [port, from, to] intervals: the most distinct ports in use at one instant (an end before a start). */
export function peakPortsInUse(spans: [number, number, number][]): number {
  const peak = new PortPeak();
  for (const [port, from, to] of [...spans].sort((x, y) => x[1] - y[1])) peak.add(port, from, to);
  return peak.peak;
}

/**
 * The most distinct ports held at one instant, folded one span [from, to) at a time in order of `from`: the spans
 * still held sit in a min-heap by end, so memory follows the ports in use, not the spans seen. An end and a start at
 * the same instant do not overlap; a port held twice at once counts once. A span whose start precedes the latest
 * start seen (a capture clock that steps back) is taken to start at that latest start.
 */
export class PortPeak {
  peak = 0;
  private inUse = 0;
  private lastFrom = -Infinity;
  private ends: number[] = [];
  private ports: number[] = [];
  private readonly held = new Map<number, number>();

  add(port: number, from: number, to: number): void {
    if (from < this.lastFrom) from = this.lastFrom;
    this.lastFrom = from;
    while (this.ends.length > 0 && (this.ends[0] as number) <= from) this.release(this.pop());
    if (to <= from) return;
    this.push(to, port);
    const n = (this.held.get(port) ?? 0) + 1;
    this.held.set(port, n);
    if (n === 1 && ++this.inUse > this.peak) this.peak = this.inUse;
  }

  private release(port: number): void {
    const n = (this.held.get(port) as number) - 1;
    if (n === 0) { this.held.delete(port); this.inUse--; } else this.held.set(port, n);
  }

  private push(end: number, port: number): void {
    const e = this.ends;
    const p = this.ports;
    let i = e.length;
    e.push(end); p.push(port);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if ((e[up] as number) <= end) break;
      e[i] = e[up] as number; p[i] = p[up] as number;
      i = up;
    }
    e[i] = end; p[i] = port;
  }

  /** Removes the span that ends first; returns its port. */
  private pop(): number {
    const e = this.ends;
    const p = this.ports;
    const top = p[0] as number;
    const end = e.pop() as number;
    const port = p.pop() as number;
    const n = e.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let k = 2 * i + 1;
      if (k >= n) break;
      if (k + 1 < n && (e[k + 1] as number) < (e[k] as number)) k++;
      if ((e[k] as number) >= end) break;
      e[i] = e[k] as number; p[i] = p[k] as number;
      i = k;
    }
    e[i] = end; p[i] = port;
    return top;
  }
}

/** Linux default ip_local_port_range 32768–60999: the port pool when a capture shows no port reused. */
const LINUX_EPHEMERAL_PORTS = 28232;
/** Fewer connections than this give no meaningful rate: no exhaustion ratio. */
export const MIN_CONNECTIONS_FOR_RATE = 10;

/** What the aggregates need of one judged connection and its findings (a few fields, not the report). */
export interface AggregateInput {
  client: Endpoint;
  server: Endpoint;
  teardown: Teardown;
  start: number;
  end: number;
  timeWaitUntil: number | null;
  /** Its server-side stuck-half-close findings open at the end: [stuck, ageSeconds] each. */
  halfCloses: [boolean, number][];
  /** Its time-wait-reuse findings: [rejected, sinceCloseSeconds] each. */
  reuses: [boolean, number][];
}

export function aggregateInput(c: ConnectionReport, findings: readonly Finding[]): AggregateInput {
  const halfCloses: [boolean, number][] = [];
  const reuses: [boolean, number][] = [];
  for (const f of findings) {
    if (f.kind === 'stuck-half-close' && f.details.stuckSide === 'server' && f.details.openAtEnd === true) {
      halfCloses.push([f.details.stuck === true, f.details.ageSeconds as number]);
    } else if (f.kind === 'time-wait-reuse') reuses.push([f.details.outcome === 'rejected', f.details.sinceCloseSeconds as number]);
  }
  return { client: c.client, server: c.server, teardown: c.teardown, start: c.start, end: c.end, timeWaitUntil: c.times.timeWaitUntil, halfCloses, reuses };
}

/**
 * A pair's running totals. Most pairs see one connection: its port and span stay inline, and the set of ports and
 * the port-peak sweep are made when a second connection comes.
 */
export interface PairAcc {
  client: string; server: Endpoint; n: number; port: number; from: number; to: number; ports: Set<number> | null;
  first: number; last: number; reuses: number; rejected: number; fastest: number | null; peak: PortPeak | null;
}

/**
 * Per-server and per-pair aggregates folded one judged connection at a time, in the report's connection order (first
 * frame): one row per server and per client → server pair, whatever the number of connections. Rows come out in
 * the order the list functions below give (ties in order of first appearance).
 */
export class AggregateAccumulator {
  /** Server rows by address, then port (no endpoint text per connection), and in order of first appearance. */
  private readonly servers = new Map<string, Map<number, ServerAggregate>>();
  private readonly serverList: ServerAggregate[] = [];
  private readonly pairs = new Map<string, PairAcc>();

  /** `withPairs` false: the server rows only (the pairs are folded elsewhere: src/analyze/pair-spill.ts). */
  constructor(private readonly withPairs = true) {}

  /** Make the rows of this connection exist (the order of first appearance breaks ties), without folding it. */
  touch(c: AggregateInput): void {
    this.server(c.server);
    if (this.withPairs) this.pair(c, endpointText(c.server));
  }

  add(c: AggregateInput): void {
    foldServer(this.server(c.server), c);
    if (this.withPairs) foldPair(this.pair(c, endpointText(c.server)), c);
  }

  /** Per server endpoint: the CLOSE_WAIT pile-up (docs/rules.md §6.1 aggregate) and resets. */
  serverRows(): ServerAggregate[] {
    return [...this.serverList].sort(byPileUp);
  }

  /** Per client address → server endpoint (see pairAggregates). */
  pairRows(): PairAggregate[] {
    return [...this.pairs.values()].map(pairRow).sort(byPressure);
  }

  /** The row of a server endpoint (its address text tells IPv4 from IPv6: the same as keying by endpointText). */
  private server(e: Endpoint): ServerAggregate {
    let ports = this.servers.get(e.address);
    if (ports === undefined) { ports = new Map(); this.servers.set(e.address, ports); }
    let a = ports.get(e.port);
    if (a === undefined) {
      a = newServerRow(e);
      ports.set(e.port, a);
      this.serverList.push(a);
    }
    return a;
  }

  private pair(c: AggregateInput, server: string): PairAcc {
    const host = c.client.address;
    const key = host + '>' + server;
    let a = this.pairs.get(key);
    if (a === undefined) {
      a = newPairAcc(c);
      this.pairs.set(key, a);
    }
    return a;
  }
}

/** A server's row before its first connection is folded in. */
export const newServerRow = (server: Endpoint): ServerAggregate =>
  ({ server, connections: 0, halfClosed: 0, stuck: 0, oldestHalfCloseSeconds: null, resets: 0 });

/** One connection to the server folded in (sums and a maximum: the same rows in any order). */
export function foldServer(s: ServerAggregate, c: AggregateInput): void {
  s.connections++;
  if (c.teardown === 'rst') s.resets++;
  for (const [stuck, age] of c.halfCloses) {
    s.halfClosed++;
    if (stuck) s.stuck++;
    if (s.oldestHalfCloseSeconds === null || age > s.oldestHalfCloseSeconds) s.oldestHalfCloseSeconds = age;
  }
}

/** A pair's totals before its first connection is folded in. */
export function newPairAcc(c: AggregateInput): PairAcc {
  return { client: c.client.address, server: c.server, n: 0, port: 0, from: 0, to: 0, ports: null, first: c.start, last: c.start, reuses: 0, rejected: 0, fastest: null, peak: null };
}

/** One connection of the pair folded in (its connections in the report's order). */
export function foldPair(a: PairAcc, c: AggregateInput): void {
  const port = c.client.port;
  const to = Math.max(c.end, c.timeWaitUntil ?? c.end);
  if (a.n === 0) { a.port = port; a.from = c.start; a.to = to; } else {
    if (a.peak === null) {
      a.peak = new PortPeak();
      a.peak.add(a.port, a.from, a.to);
      a.ports = new Set([a.port]);
    }
    (a.ports as Set<number>).add(port);
    a.peak.add(port, c.start, to);
  }
  a.n++;
  if (c.start < a.first) a.first = c.start;
  if (c.start > a.last) a.last = c.start;
  for (const [rejected, since] of c.reuses) {
    a.reuses++;
    if (rejected) a.rejected++;
    if (a.fastest === null || since < a.fastest) a.fastest = since;
  }
}

/** The pair's row. */
export function pairRow(a: PairAcc): PairAggregate {
  return pairAggregate(
    { client: a.client, server: a.server, connections: a.n, distinctClientPorts: a.ports?.size ?? 1, first: a.first, last: a.last, reuses: a.reuses, rejected: a.rejected, fastest: a.fastest },
    () => a.peak?.peak ?? (a.to > a.from ? 1 : 0),
  );
}

/** Largest CLOSE_WAIT pile-up first, then stuck, resets, connections (a stable sort keeps first-seen order). */
export const byPileUp = (x: ServerAggregate, y: ServerAggregate): number =>
  y.halfClosed - x.halfClosed || y.stuck - x.stuck || y.resets - x.resets || y.connections - x.connections;

/** What a pair's aggregate is made of: sums, distinct ports, first and last connection start, the fastest reuse. */
export interface PairTotals {
  client: string;
  server: Endpoint;
  connections: number;
  distinctClientPorts: number;
  first: number;
  last: number;
  reuses: number;
  rejected: number;
  fastest: number | null;
}

/** Rate, port pool and pressure from a pair's totals; `peak` (the ports held at once) is asked for only when it counts. */
export function pairAggregate(t: PairTotals, peak: () => number): PairAggregate {
  const span = t.last - t.first;
  const enough = t.connections >= MIN_CONNECTIONS_FOR_RATE && span > 0;
  const reused = t.distinctClientPorts < t.connections;
  const pool = reused ? t.distinctClientPorts : Math.max(LINUX_EPHEMERAL_PORTS, t.distinctClientPorts);
  const p = enough ? peak() : null;
  return {
    client: t.client, server: t.server, connections: t.connections, distinctClientPorts: t.distinctClientPorts,
    ratePerSecond: enough ? (t.connections - 1) / span : null,
    timeWaitReuses: t.reuses, rejectedReuses: t.rejected, fastestReuseSeconds: t.fastest,
    portsInUsePeak: p, exhaustionRatio: p === null ? null : p / pool,
  };
}

/** A pair the text report lists: TIME_WAIT reuses, or fewer client ports than connections. */
export const showsReuse = (p: PairAggregate): boolean => p.timeWaitReuses > 0 || p.distinctClientPorts < p.connections;

/** Closest to exhaustion first, then TIME_WAIT reuses, connections (a stable sort keeps first-seen order). */
export const byPressure = (x: PairAggregate, y: PairAggregate): number =>
  (y.exhaustionRatio ?? 0) - (x.exhaustionRatio ?? 0) || y.timeWaitReuses - x.timeWaitReuses || y.connections - x.connections;

/** A whole list folded: rows registered in list order (ties), spans swept in start order (exact for any order). */
function fold(conns: readonly ConnectionReport[], findings: readonly Finding[]): AggregateAccumulator {
  const per = new Map<string, Finding[]>();
  for (const f of findings) { const l = per.get(f.connection); if (l) l.push(f); else per.set(f.connection, [f]); }
  const acc = new AggregateAccumulator();
  const inputs = conns.map((c) => aggregateInput(c, per.get(c.id) ?? []));
  for (const x of inputs) acc.touch(x);
  for (const x of [...inputs].sort((a, b) => a.start - b.start)) acc.add(x);
  return acc;
}

/** Per server endpoint: the CLOSE_WAIT pile-up (docs/rules.md §6.1 aggregate) and resets. */
export function serverAggregates(conns: ConnectionReport[], findings: Finding[]): ServerAggregate[] {
  return fold(conns, findings).serverRows();
}

/**
 * Per client address → server endpoint (docs/rules.md §6.4 aggregate): connection rate, distinct client ports, and the
 * port pressure = the most client ports tied up at one instant (a connection holds its port from its first packet
 * to its last, or to the end of its TIME_WAIT, cut at the next incarnation's start) ÷ the port pool (the distinct
 * ports seen when the pair reused ports, else the Linux default range of 28 232). Each port counts once at an
 * instant, so the ratio can never exceed 1. Rate and pressure are null below MIN_CONNECTIONS_FOR_RATE connections.
 */
export function pairAggregates(conns: ConnectionReport[], findings: Finding[], _timeWait: number): PairAggregate[] {
  return fold(conns, findings).pairRows();
}
