import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './duckdb.js';
import { sqlString } from './duckdb.js';
import { ResultsError } from './error.js';
import type { RunInfo } from './run.js';
import { CONNECTIONS_FILE, FINDINGS_FILE, PARQUET_SCHEMA_KEY, RUN_FILE, SCHEMA_VERSION } from './schema.js';

export interface ResultFolder {
  dir: string;
  info: RunInfo;
  connections: string;
  findings: string;
}

/** Reads and checks run.json of each folder (schema version, the two Parquet files present). */
export async function readFolders(dirs: string[]): Promise<ResultFolder[]> {
  const out: ResultFolder[] = [];
  for (const dir of dirs) {
    const runFile = join(dir, RUN_FILE);
    let text: string;
    try {
      text = await readFile(runFile, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ResultsError(runFile, code === 'ENOENT' ? 'missing: not a result folder of teardown analyze --out (or the run did not finish)' : `cannot read (${code ?? String(e)})`);
    }
    let info: RunInfo;
    try {
      info = JSON.parse(text) as RunInfo;
    } catch {
      throw new ResultsError(runFile, 'not valid JSON');
    }
    if (typeof info !== 'object' || info === null || typeof info.schema !== 'number') throw new ResultsError(runFile, 'no schema version: not a teardown run.json');
    if (info.schema !== SCHEMA_VERSION) {
      throw new ResultsError(runFile, `schema version ${info.schema}; this teardown reads version ${SCHEMA_VERSION}: analyze the capture again with --out`);
    }
    const f: ResultFolder = { dir, info, connections: join(dir, CONNECTIONS_FILE), findings: join(dir, FINDINGS_FILE) };
    for (const file of [f.connections, f.findings]) {
      try {
        await stat(file);
      } catch {
        throw new ResultsError(file, 'missing (run.json is there: the folder was altered after the run)');
      }
    }
    out.push(f);
  }
  return out;
}

/**
 * Checks every Parquet file's schema version and row count against its run.json. One query for all files; when it
 * fails (a damaged file), the files are checked one by one so the error names the file.
 */
export async function checkParquet(db: Db, folders: ResultFolder[]): Promise<void> {
  const files = folders.flatMap((f) => [
    { file: f.connections, rows: f.info.counts.connections },
    { file: f.findings, rows: f.info.counts.findings },
  ]);
  const meta = async (list: string[]): Promise<Map<string, { version: string | null; rows: number }>> => {
    const arr = `[${list.map(sqlString).join(', ')}]`;
    const rows = await db.all(`SELECT m.file_name AS file, CAST(k.value AS VARCHAR) AS version, m.num_rows AS rows
      FROM parquet_file_metadata(${arr}) m
      LEFT JOIN (SELECT file_name, value FROM parquet_kv_metadata(${arr}) WHERE CAST(key AS VARCHAR) = '${PARQUET_SCHEMA_KEY}') k
      ON k.file_name = m.file_name`);
    return new Map(rows.map((r) => [r.file as string, { version: r.version as string | null, rows: Number(r.rows) }]));
  };
  let found: Map<string, { version: string | null; rows: number }>;
  try {
    found = await meta(files.map((f) => f.file));
  } catch {
    found = new Map();
    for (const { file } of files) {
      try {
        for (const [k, v] of await meta([file])) found.set(k, v);
      } catch (e) {
        throw new ResultsError(file, `not a readable Parquet file (${e instanceof Error ? firstLine(e.message) : String(e)})`);
      }
    }
  }
  for (const { file, rows } of files) {
    const m = found.get(file);
    if (m === undefined) throw new ResultsError(file, 'not a readable Parquet file');
    if (m.version !== String(SCHEMA_VERSION)) throw new ResultsError(file, `schema version ${m.version ?? 'missing'}; this teardown reads version ${SCHEMA_VERSION}`);
    if (m.rows !== rows) throw new ResultsError(file, `${m.rows} rows where run.json says ${rows}: the folder mixes files of different runs`);
  }
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).replace(/^[A-Za-z ]+Error: /, '');
}

/** SQL list of file paths. */
export function fileList(files: string[]): string {
  return `[${files.map(sqlString).join(', ')}]`;
}

/** Views `connections` and `findings` over every folder's files (for report and --sql). */
export async function createViews(db: Db, folders: ResultFolder[]): Promise<void> {
  await db.run(`CREATE VIEW connections AS SELECT * FROM read_parquet(${fileList(folders.map((f) => f.connections))}, union_by_name = true)`);
  await db.run(`CREATE VIEW findings AS SELECT * FROM read_parquet(${fileList(folders.map((f) => f.findings))}, union_by_name = true)`);
}
