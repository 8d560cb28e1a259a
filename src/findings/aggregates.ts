import { endpointText, type Endpoint } from '../model/endpoint.js';
import type { ConnectionReport, Finding, PairAggregate, ServerAggregate } from '../model/report.js';

/** Sweep over [port, from, to] intervals: the most distinct ports in use at one instant (an end before a start). */
export function peakPortsInUse(spans: [number, number, number][]): number {
  const ev: [number, number, number][] = [];
  for (const [port, from, to] of spans) { ev.push([from, 1, port]); ev.push([to, -1, port]); }
  ev.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const active = new Map<number, number>();
  let inUse = 0;
  let peak = 0;
  for (const [, d, port] of ev) {
    const n = (active.get(port) ?? 0) + d;
    active.set(port, n);
    if (d > 0 && n === 1) inUse++;
    else if (d < 0 && n === 0) inUse--;
    if (inUse > peak) peak = inUse;
  }
  return peak;
}

/** Linux default ip_local_port_range 32768–60999: the port pool when a capture shows no port reused. */
const LINUX_EPHEMERAL_PORTS = 28232;
/** Fewer connections than this give no meaningful rate: no exhaustion ratio. */
export const MIN_CONNECTIONS_FOR_RATE = 10;

/** Per server endpoint: the CLOSE_WAIT pile-up (docs/rules.md §6.1 aggregate) and resets. */
export function serverAggregates(conns: ConnectionReport[], findings: Finding[]): ServerAggregate[] {
  const byId = new Map(conns.map((c) => [c.id, c]));
  const m = new Map<string, ServerAggregate>();
  const get = (s: Endpoint): ServerAggregate => {
    const k = endpointText(s);
    let a = m.get(k);
    if (!a) { a = { server: s, connections: 0, halfClosed: 0, stuck: 0, oldestHalfCloseSeconds: null, resets: 0 }; m.set(k, a); }
    return a;
  };
  for (const c of conns) { const a = get(c.server); a.connections++; if (c.teardown === 'rst') a.resets++; }
  for (const f of findings) {
    if (f.kind !== 'stuck-half-close' || f.details.stuckSide !== 'server' || f.details.openAtEnd !== true) continue;
    const c = byId.get(f.connection);
    if (!c) continue;
    const a = get(c.server);
    a.halfClosed++;
    if (f.details.stuck === true) a.stuck++;
    const age = f.details.ageSeconds as number;
    if (a.oldestHalfCloseSeconds === null || age > a.oldestHalfCloseSeconds) a.oldestHalfCloseSeconds = age;
  }
  return [...m.values()].sort(byPileUp);
}

/** Largest CLOSE_WAIT pile-up first, then stuck, resets, connections (a stable sort keeps first-seen order). */
export const byPileUp = (x: ServerAggregate, y: ServerAggregate): number =>
  y.halfClosed - x.halfClosed || y.stuck - x.stuck || y.resets - x.resets || y.connections - x.connections;

/**
 * Per client address → server endpoint (docs/rules.md §6.4 aggregate): connection rate, distinct client ports, and the
 * port pressure = the most client ports tied up at one instant (a connection holds its port from its first packet
 * to its last, or to the end of its TIME_WAIT, cut at the next incarnation's start) ÷ the port pool (the distinct
 * ports seen when the pair reused ports, else the Linux default range of 28 232). Each port counts once at an
 * instant, so the ratio can never exceed 1. Rate and pressure are null below MIN_CONNECTIONS_FOR_RATE connections.
 */
export function pairAggregates(conns: ConnectionReport[], findings: Finding[], timeWait: number): PairAggregate[] {
  type Acc = { client: string; server: Endpoint; n: number; ports: Set<number>; first: number; last: number; reuses: number; rejected: number; fastest: number | null;
    spans: [number, number, number][] };
  const m = new Map<string, Acc>();
  const pairOf = new Map<string, Acc>();
  for (const c of conns) {
    const host = c.client.address;
    const key = host + '>' + endpointText(c.server);
    let a = m.get(key);
    if (a === undefined) { a = { client: host, server: c.server, n: 0, ports: new Set(), first: c.start, last: c.start, reuses: 0, rejected: 0, fastest: null, spans: [] }; m.set(key, a); }
    a.n++;
    const port = c.client.port;
    a.ports.add(port);
    a.spans.push([port, c.start, Math.max(c.end, c.times.timeWaitUntil ?? c.end)]);
    if (c.start < a.first) a.first = c.start;
    if (c.start > a.last) a.last = c.start;
    if (c.findings.length > 0) pairOf.set(c.id, a);
  }
  for (const f of findings) {
    if (f.kind !== 'time-wait-reuse') continue;
    const a = pairOf.get(f.connection);
    if (!a) continue;
    a.reuses++;
    if (f.details.outcome === 'rejected') a.rejected++;
    const s = f.details.sinceCloseSeconds as number;
    if (a.fastest === null || s < a.fastest) a.fastest = s;
  }
  return [...m.values()].map((a) => pairAggregate(
    { client: a.client, server: a.server, connections: a.n, distinctClientPorts: a.ports.size, first: a.first, last: a.last, reuses: a.reuses, rejected: a.rejected, fastest: a.fastest },
    () => peakPortsInUse(a.spans),
  )).sort(byPressure);
}

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

/** Closest to exhaustion first, then TIME_WAIT reuses, connections (a stable sort keeps first-seen order). */
export const byPressure = (x: PairAggregate, y: PairAggregate): number =>
  (y.exhaustionRatio ?? 0) - (x.exhaustionRatio ?? 0) || y.timeWaitReuses - x.timeWaitReuses || y.connections - x.connections;
