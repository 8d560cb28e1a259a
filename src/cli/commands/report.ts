import { Command } from 'commander';
import { TABLE_ROWS } from '../../report/text.js';
import { openDb } from '../../results/duckdb.js';
import { mergedJsonChunks } from '../../results/json.js';
import { formatsText, Merge, mergeFolders } from '../../results/merge.js';
import { inCi } from '../ci.js';
import { checkParquet, createViews, readFolders } from '../../results/read.js';
import { mergedText } from '../../results/text.js';
import { UsageError } from '../errors.js';

interface ReportFlags {
  text?: boolean;
  json?: boolean;
  sql?: string;
  maxPerKind?: number;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('merge result folders of analyze --out (shards of one capture, captures of many hosts) into one report, or query them with SQL')
    .argument('<dir...>', 'result folders (run.json, connections.parquet, findings.parquet)')
    .option('--text', 'plain text report (default when stdout is not a terminal; on a terminal: the interactive view of analyze)')
    .option('--json', 'one JSON object: the analyze --json report plus captures, labels and overTime (docs/results-format.md); with --sql, one JSON object per row')
    .option('--sql <query>', "run a query over the views connections and findings instead (e.g. \"SELECT kind, count(*) FROM findings GROUP BY ALL\")")
    .option('--max-per-kind <n>', 'text report (implies --text on a terminal): findings printed in full per kind, worst first (0 = all)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--max-per-kind takes a whole number, not '${v}'`);
      return n;
    })
    .action(async (dirs: string[], o: ReportFlags) => {
      const folders = await readFolders(dirs);
      const db = await openDb('teardown report');
      try {
        await checkParquet(db, folders);
        if (o.sql !== undefined) { await runSql(db, folders, o.sql, o.json === true); return; }
        // A terminal without --text/--json/--max-per-kind gets the interactive UI, as analyze does.
        if (!o.text && !o.json && o.maxPerKind === undefined && process.stdout.isTTY === true && !inCi()) {
          const r = await mergeFolders(db, folders);
          const ui = await import('../../ui/render.js');
          if (await ui.showMergedReport(r, {
            folders: folders.length, captures: r.captures.length, labels: r.labels.map((l) => l.label), formats: formatsText(r.captures),
            laddersWithFindingsOnly: folders.some((f) => f.info.ladders !== 'all'),
          })) return;
          await write(mergedText(r, { maxPerKind: 50 }));
          return;
        }
        const m = await Merge.open(db, folders);
        if (o.json) {
          for await (const c of mergedJsonChunks(m)) await write(c);
        } else {
          const maxPerKind = o.maxPerKind ?? 50;
          const { findings, connections } = await m.textParts(maxPerKind, TABLE_ROWS);
          await write(mergedText({ ...m.head, connections, findings, captures: m.captures, labels: m.labels, overTime: m.overTime }, { maxPerKind }));
        }
      } finally {
        db.close();
      }
    });
}

async function runSql(db: Awaited<ReturnType<typeof openDb>>, folders: Awaited<ReturnType<typeof readFolders>>, sql: string, json: boolean): Promise<void> {
  await createViews(db, folders);
  let rows: Record<string, unknown>[];
  try {
    rows = await db.all(sql);
  } catch (e) {
    throw new UsageError(`--sql: ${e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e)}`);
  }
  const plain = (v: unknown): unknown => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v);
  if (json) {
    for (const r of rows) await write(JSON.stringify(r, (_k, v: unknown) => plain(v)) + '\n');
    return;
  }
  // Tab-separated with a header line: reads in a terminal, pipes into cut/sort/awk.
  const cols = rows[0] === undefined ? [] : Object.keys(rows[0]);
  const cell = (v: unknown): string => {
    const p = plain(v);
    return p === null || p === undefined ? '' : p instanceof Date ? p.toISOString() : typeof p === 'object' ? JSON.stringify(p, (_k, x: unknown) => plain(x)) : String(p);
  };
  let buf = cols.join('\t') + '\n';
  for (const r of rows) {
    buf += cols.map((c) => cell(r[c])).join('\t') + '\n';
    if (buf.length > 1 << 16) { await write(buf); buf = ''; }
  }
  await write(buf);
}

function write(s: string): Promise<void> {
  return new Promise((res) => { if (process.stdout.write(s)) res(); else process.stdout.once('drain', () => res()); });
}
