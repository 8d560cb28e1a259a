import { sqlString, type Db } from './duckdb.js';
import type { ResultFolder } from './read.js';

/**
 * The SQL side of `report`: every folder's files as two tables tagged with their run, and the merged connection
 * numbering, all inside DuckDB (nothing per connection is held in JS):
 * - `runs(run, grp, pos, label)`: run = folder index as given (pos: the same, kept apart for clarity), grp = the
 *   capture it belongs to, in report order (shards of one capture share a grp).
 * - `c_all`, `f_all`: the connection and finding rows with `run` and `file_row` (the row's place in its file).
 * - `conn_ids(run, id, nid, …)`: the merged number of every connection (and the columns the aggregates read): captures in order, then first frame — the
 *   order analyze numbers them in, so the shards of one capture get the ids of an unsharded run.
 */
export async function createRunTables(db: Db, folders: ResultFolder[], groupOfFolder: number[]): Promise<void> {
  const values = (rows: string[]) => (rows.length ? rows.join(', ') : '');
  await db.run(`CREATE OR REPLACE TEMP TABLE runs (run INTEGER, grp INTEGER, label VARCHAR, cfile VARCHAR, ffile VARCHAR)`);
  // In slices: one INSERT with thousands of rows is fine, a million-character statement is not needed.
  for (let i = 0; i < folders.length; i += 500) {
    const rows = folders.slice(i, i + 500).map((f, j) => `(${i + j}, ${groupOfFolder[i + j] ?? 0}, ${sqlString(f.info.label)}, ${sqlString(f.connections)}, ${sqlString(f.findings)})`);
    await db.run(`INSERT INTO runs VALUES ${values(rows)}`);
  }
  const list = (files: string[]) => `[${files.map(sqlString).join(', ')}]`;
  await db.run(`CREATE OR REPLACE TEMP VIEW c_all AS SELECT r.run, r.grp, p.file_row_number AS file_row, p.* EXCLUDE (filename, file_row_number)
    FROM read_parquet(${list(folders.map((f) => f.connections))}, filename = true, file_row_number = true, union_by_name = true) p JOIN runs r ON r.cfile = p.filename`);
  await db.run(`CREATE OR REPLACE TEMP VIEW f_all AS SELECT r.run, r.grp, p.file_row_number AS file_row, p.* EXCLUDE (filename, file_row_number)
    FROM read_parquet(${list(folders.map((f) => f.findings))}, filename = true, file_row_number = true, union_by_name = true) p JOIN runs r ON r.ffile = p.filename`);
  // With the few columns the aggregates read, so that they do not read every file again.
  await db.run(`CREATE OR REPLACE TEMP TABLE conn_ids AS SELECT run, id, label, client, client_host, server, start_time, end_time,
    time_wait_until, teardown, len(findings) > 0 AS has_findings,
    row_number() OVER (ORDER BY grp, first_frame, run, file_row) AS nid FROM c_all`);
}

/** Severity rank in SQL (SEVERITY_RANK). */
export const SEVERITY_RANK_SQL = `CASE severity WHEN 'error' THEN 2 WHEN 'warn' THEN 1 ELSE 0 END`;

/**
 * Findings with their connection's merged number (`ord`; 1 for a finding about a server endpoint, as the first
 * connection), in report order: time, then connection, then folder and file order.
 */
export const FINDINGS_ORDERED = `SELECT f.*, coalesce(i.nid, 1) AS ord FROM f_all f LEFT JOIN conn_ids i ON i.run = f.run AND i.id = f.connection`;
export const FINDINGS_ORDER_BY = 'time, ord, run, file_row';
