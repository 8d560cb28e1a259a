import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { basename, join } from 'node:path';
import { once } from 'node:events';
import type { AnalysisSession } from '../analyze/session.js';
import type { AnalysisSink } from '../analyze/sink.js';
import type { Report } from '../model/report.js';
import type { Shard } from '../tcp/shard.js';
import { openDb, sqlString, type Db } from './duckdb.js';
import { ResultsError } from './error.js';
import type { RunInfo } from './run.js';
import { shardText } from './run.js';
import {
  CONNECTION_COLUMNS, CONNECTIONS_FILE, FINDING_COLUMNS, FINDINGS_FILE, PARQUET_SCHEMA_KEY, RUN_FILE, SCHEMA_VERSION,
  columnsArg, connectionRow, findingRow, type RowContext,
} from './schema.js';

export interface ResultsOptions {
  dir: string;
  label?: string;
  shard?: Shard;
  ladders?: 'all' | 'findings';
  /** An open DuckDB to write with (kept open); default: one of its own, closed after writing. */
  db?: Db;
}

/**
 * `analyze --out DIR`: writes the final report as a result folder (connections.parquet, findings.parquet, run.json).
 * DuckDB is opened before the capture is read (a missing package fails at once, not after an hour of capture).
 * Rows go to newline-delimited JSON beside the files, then DuckDB copies them into Parquet with fixed column types.
 */
export class ResultsSink implements AnalysisSink {
  private db: Db | null = null;
  private otherShardPackets = 0;

  constructor(private readonly opts: ResultsOptions) {}

  /** Opens DuckDB and the folder; call before the analysis starts. */
  async open(): Promise<void> {
    this.db = this.opts.db ?? await openDb(`--out ${this.opts.dir}`);
    try {
      await mkdir(this.opts.dir, { recursive: true });
    } catch (e) {
      throw new ResultsError(this.opts.dir, `cannot create the result folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }

  progress(session: AnalysisSession): void {
    this.otherShardPackets = session.otherShardPackets;
  }

  async end(report: Report): Promise<void> {
    if (this.db === null) await this.open();
    const db = this.db as Db;
    const { dir } = this.opts;
    const ladders = this.opts.ladders ?? 'findings';
    const shard = this.opts.shard !== undefined && this.opts.shard.n > 1 ? this.opts.shard : null;
    const label = this.opts.label ?? (report.capture.path === '-' ? 'stdin' : basename(report.capture.path));
    const x: RowContext = { label, capture: report.capture.path, shard: shardText(shard) };
    try {
      await writeParquet(db, join(dir, CONNECTIONS_FILE), CONNECTION_COLUMNS,
        report.connections.map((c) => connectionRow(x, c, ladders === 'all' || c.findings.length > 0)));
      await writeParquet(db, join(dir, FINDINGS_FILE), FINDING_COLUMNS, report.findings.map((f) => findingRow(x, f)));
    } finally {
      if (this.opts.db === undefined) db.close();
      this.db = null;
    }
    const run: RunInfo = {
      schema: SCHEMA_VERSION, tool: report.tool, label, capture: report.capture, settings: report.settings,
      shard: shard === null ? null : { ...shard, otherShardPackets: this.otherShardPackets },
      counts: { connections: report.connections.length, findings: report.findings.length },
      summary: report.summary, ladders, written: new Date().toISOString(),
    };
    // run.json last and by rename: a folder with a run.json is complete.
    const tmp = join(dir, `.${RUN_FILE}.tmp`);
    await writeFile(tmp, JSON.stringify(run, null, 2) + '\n');
    await rename(tmp, join(dir, RUN_FILE));
  }
}

async function writeParquet(db: Db, file: string, cols: Record<string, string>, rows: Record<string, unknown>[]): Promise<void> {
  const tmp = `${file}.ndjson.tmp`;
  const out = createWriteStream(tmp);
  try {
    let buf = '';
    for (const r of rows) {
      buf += JSON.stringify(r) + '\n';
      if (buf.length > 1 << 20) { if (!out.write(buf)) await once(out, 'drain'); buf = ''; }
    }
    out.end(buf);
    await once(out, 'finish');
    const select = rows.length === 0
      // read_json cannot infer anything from an empty file: an empty table with the same columns.
      ? `SELECT ${Object.entries(cols).map(([k, t]) => `NULL::${t} AS ${k}`).join(', ')} LIMIT 0`
      : `SELECT * FROM read_json(${sqlString(tmp)}, format = 'newline_delimited', columns = ${columnsArg(cols)}, maximum_object_size = 268435456)`;
    await db.run(`COPY (${select}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {${PARQUET_SCHEMA_KEY}: '${SCHEMA_VERSION}'})`);
  } catch (e) {
    throw new ResultsError(file, `cannot write: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  } finally {
    out.destroy();
    await rm(tmp, { force: true });
  }
}
