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
  const get = (s: string): ServerAggregate => {
    let a = m.get(s);
    if (!a) { a = { server: s, connections: 0, halfClosed: 0, stuck: 0, oldestHalfCloseSeconds: null, resets: 0 }; m.set(s, a); }
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
  return [...m.values()].sort((x, y) => y.halfClosed - x.halfClosed || y.stuck - x.stuck || y.resets - x.resets || y.connections - x.connections);
}

/**
 * Per client address → server endpoint (docs/rules.md §6.4 aggregate): connection rate, distinct client ports, and the
 * port pressure = the most client ports tied up at one instant (a connection holds its port from its first packet
 * to its last, or to the end of its TIME_WAIT, cut at the next incarnation's start) ÷ the port pool (the distinct
 * ports seen when the pair reused ports, else the Linux default range of 28 232). Each port counts once at an
 * instant, so the ratio can never exceed 1. Rate and pressure are null below MIN_CONNECTIONS_FOR_RATE connections.
 */
export function pairAggregates(conns: ConnectionReport[], findings: Finding[], timeWait: number): PairAggregate[] {
  type Acc = { client: string; server: string; n: number; ports: Set<number>; first: number; last: number; reuses: number; rejected: number; fastest: number | null;
    spans: [number, number, number][] };
  const m = new Map<string, Acc>();
  const pairOf = new Map<string, Acc>();
  for (const c of conns) {
    const colon = c.client.lastIndexOf(':');
    const host = c.client.charCodeAt(0) === 91 /* [ */ ? c.client.slice(1, colon - 1) : c.client.slice(0, colon);
    const key = host + '>' + c.server;
    let a = m.get(key);
    if (a === undefined) { a = { client: host, server: c.server, n: 0, ports: new Set(), first: c.start, last: c.start, reuses: 0, rejected: 0, fastest: null, spans: [] }; m.set(key, a); }
    a.n++;
    const port = +c.client.slice(colon + 1);
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
  return [...m.values()].map((a) => {
    const span = a.last - a.first;
    const enough = a.n >= MIN_CONNECTIONS_FOR_RATE && span > 0;
    const reused = a.ports.size < a.n;
    const pool = reused ? a.ports.size : Math.max(LINUX_EPHEMERAL_PORTS, a.ports.size);
    const peak = enough ? peakPortsInUse(a.spans) : null;
    return {
      client: a.client, server: a.server, connections: a.n, distinctClientPorts: a.ports.size,
      ratePerSecond: enough ? (a.n - 1) / span : null,
      timeWaitReuses: a.reuses, rejectedReuses: a.rejected, fastestReuseSeconds: a.fastest,
      portsInUsePeak: peak, exhaustionRatio: peak === null ? null : peak / pool,
    };
  }).sort((x, y) => (y.exhaustionRatio ?? 0) - (x.exhaustionRatio ?? 0) || y.timeWaitReuses - x.timeWaitReuses || y.connections - x.connections);
}
