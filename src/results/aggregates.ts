import { byPileUp, byPressure, MIN_CONNECTIONS_FOR_RATE, pairAggregate } from '../findings/aggregates.js';
import type { PairAggregate, ServerAggregate } from '../model/report.js';
import type { Db } from './duckdb.js';
import { CONNECTIONS_FILE, endpointColumn } from './schema.js';

/**
 * Per-server CLOSE_WAIT pile-ups and per-pair port pressure of the merged runs, computed by DuckDB over the
 * `conn_ids` and `f_all` tables (src/results/tables.ts) with the definitions of src/findings/aggregates.ts:
 * - counts, sums, the oldest half-close, the fastest reuse and first/last start are GROUP BYs (the same as adding up
 *   per-run state);
 * - distinct client ports are a COUNT(DISTINCT) over the pair's rows;
 * - the most ports held at one instant is the same sweep as peakPortsInUse: per port a running count ordered by
 *   time (ends before starts at one instant) marks when the port becomes busy or free, and a running sum of those
 *   marks over the pair gives the ports in use, taken at the end of each instant's starts.
 * The last two are not per-run state that adds up: the connections of one client → server pair spread over every
 * shard (the shard hash includes the ports) and over rotated captures, so they need the rows. DuckDB reads only the
 * columns they use and keeps no row in JS. Ties keep the order in which analyze meets them (first connection).
 * `byLabel`: one list per label (report's breakdowns), else one list.
 */
export async function sqlServerAggregates(db: Db, byLabel: boolean): Promise<Map<string, ServerAggregate[]>> {
  const k = byLabel ? 'label, ' : '';
  const ik = byLabel ? 'i.label, ' : '';
  const rows = await db.all(`
    WITH base AS (
      SELECT ${k}server, count(*) AS connections, count(*) FILTER (WHERE teardown = 'rst') AS resets, min(nid) AS first
      FROM conn_ids GROUP BY ALL),
    hc AS (
      SELECT ${ik}i.server, count(*) AS half_closed, count(*) FILTER (WHERE json_extract(f.details, '$.stuck')::VARCHAR = 'true') AS stuck,
        max(json_extract_string(f.details, '$.ageSeconds')::DOUBLE) AS oldest
      FROM f_all f JOIN conn_ids i ON i.run = f.run AND i.id = f.connection
      WHERE f.kind = 'stuck-half-close' AND json_extract_string(f.details, '$.stuckSide') = 'server' AND json_extract(f.details, '$.openAtEnd')::VARCHAR = 'true'
      GROUP BY ALL)
    SELECT ${byLabel ? 'b.label AS label, ' : ''}b.server, b.connections, b.resets, coalesce(h.half_closed, 0) AS half_closed,
      coalesce(h.stuck, 0) AS stuck, h.oldest
    FROM base b LEFT JOIN hc h ON h.server = b.server${byLabel ? ' AND h.label = b.label' : ''}
    ORDER BY b.first`);
  return perLabel(rows, byLabel, byPileUp, (r): ServerAggregate => ({
    server: endpointColumn(CONNECTIONS_FILE, r.server, 'server'), connections: n(r.connections), halfClosed: n(r.half_closed), stuck: n(r.stuck),
    oldestHalfCloseSeconds: r.oldest === null ? null : n(r.oldest), resets: n(r.resets),
  }));
}

/** Rows grouped by their label ('' for all when not by label), each group in the report's order. */
function perLabel<T>(rows: Record<string, unknown>[], byLabel: boolean, order: (x: T, y: T) => number, make: (r: Record<string, unknown>) => T): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const key = byLabel ? r.label as string : '';
    let list = out.get(key);
    if (list === undefined) { list = []; out.set(key, list); }
    list.push(make(r));
  }
  for (const list of out.values()) list.sort(order);
  return out;
}

export async function sqlPairAggregates(db: Db, byLabel: boolean): Promise<Map<string, PairAggregate[]>> {
  const k = byLabel ? 'label, ' : '';
  const ik = byLabel ? 'i.label, ' : '';
  const on = (a: string, b: string) => `${a}.host = ${b}.host AND ${a}.server = ${b}.server${byLabel ? ` AND ${a}.label = ${b}.label` : ''}`;
  const rows = await db.all(`
    WITH c AS (
      SELECT ${k}client_host AS host, server, nid, start_time, CAST(split_part(client, ':', -1) AS INTEGER) AS port,
        greatest(end_time, coalesce(time_wait_until, end_time)) AS until
      FROM conn_ids),
    p AS (
      SELECT ${k}host, server, count(*) AS n, count(DISTINCT port) AS ports, min(start_time) AS first, max(start_time) AS last, min(nid) AS first_nid
      FROM c GROUP BY ALL),
    tw AS (
      SELECT ${ik}i.client_host AS host, i.server, count(*) AS reuses, count(*) FILTER (WHERE json_extract_string(f.details, '$.outcome') = 'rejected') AS rejected,
        min(json_extract_string(f.details, '$.sinceCloseSeconds')::DOUBLE) AS fastest
      FROM f_all f JOIN conn_ids i ON i.run = f.run AND i.id = f.connection
      WHERE f.kind = 'time-wait-reuse' GROUP BY ALL),
    -- The sweep only for pairs with a rate (enough connections over a span): the others show no pressure.
    swept AS (SELECT c.* FROM c JOIN p ON ${on('c', 'p')} WHERE p.n >= ${MIN_CONNECTIONS_FOR_RATE} AND p.last > p.first),
    ev AS (
      SELECT ${k}host, server, port, start_time AS t, 1 AS d FROM swept
      UNION ALL SELECT ${k}host, server, port, until AS t, -1 AS d FROM swept),
    busy AS (
      SELECT ${k}host, server, t, d,
        CASE WHEN d = 1 AND cnt = 1 THEN 1 WHEN d = -1 AND cnt = 0 THEN -1 ELSE 0 END AS x
      FROM (SELECT *, sum(d) OVER (PARTITION BY ${k}host, server, port ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS cnt FROM ev)),
    held AS (
      SELECT ${k}host, server, d, sum(x) OVER (PARTITION BY ${k}host, server ORDER BY t, d RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS in_use
      FROM busy),
    peak AS (SELECT ${k}host, server, greatest(0, max(in_use) FILTER (WHERE d = 1)) AS peak FROM held GROUP BY ALL)
    SELECT ${byLabel ? 'p.label AS label, ' : ''}p.host, p.server, p.n, p.ports, p.first, p.last,
      coalesce(tw.reuses, 0) AS reuses, coalesce(tw.rejected, 0) AS rejected, tw.fastest, coalesce(peak.peak, 0) AS peak
    FROM p LEFT JOIN tw ON ${on('tw', 'p')} LEFT JOIN peak ON ${on('peak', 'p')}
    ORDER BY p.first_nid`);
  return perLabel(rows, byLabel, byPressure, (r) => pairAggregate({
    client: r.host as string, server: endpointColumn(CONNECTIONS_FILE, r.server, 'server'), connections: n(r.n), distinctClientPorts: n(r.ports),
    first: n(r.first), last: n(r.last), reuses: n(r.reuses), rejected: n(r.rejected), fastest: r.fastest === null ? null : n(r.fastest),
  }, () => n(r.peak)));
}

const n = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : v as number);
