import { ResultsError } from './error.js';

/** The part of @duckdb/node-api that teardown uses (the package is optional: loaded only for --out and report). */
export interface Db {
  /** Runs a statement and returns its rows as plain JS values (BIGINT as bigint, LIST as arrays, JSON as text). */
  all(sql: string): Promise<Record<string, unknown>[]>;
  run(sql: string): Promise<void>;
  /** Runs a query and yields its rows in batches (a chunk of about 2 000 rows at a time), as `all` converts them. */
  stream(sql: string): AsyncIterable<Record<string, unknown>[]>;
  close(): void;
}

interface NodeApi {
  DuckDBInstance: {
    create(path: string, options?: Record<string, string>): Promise<{
      connect(): Promise<{
        run(sql: string): Promise<unknown>;
        runAndReadAll(sql: string): Promise<{ getRowObjectsJS(): Record<string, unknown>[] }>;
        stream(sql: string): Promise<{ yieldRowObjectJs(): AsyncIterable<Record<string, unknown>[]> }>;
        closeSync(): void;
      }>;
      closeSync(): void;
    }>;
  };
}

export const DUCKDB_PACKAGE = '@duckdb/node-api';

/** An in-memory DuckDB; a clear one-line error with the fix when the optional package is not installed. */
export async function openDb(forWhat: string): Promise<Db> {
  let api: NodeApi;
  try {
    const name = DUCKDB_PACKAGE;
    api = await import(name) as NodeApi;
  } catch {
    throw new ResultsError(forWhat, `needs the optional package ${DUCKDB_PACKAGE} (Parquet via embedded DuckDB), which is not installed: run npm install ${DUCKDB_PACKAGE}`);
  }
  const instance = await api.DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  return {
    all: async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS(),
    run: async (sql) => { await conn.run(sql); },
    stream: async function* (sql) { yield* (await conn.stream(sql)).yieldRowObjectJs(); },
    close: () => { conn.closeSync(); instance.closeSync(); },
  };
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
