/**
 * The in-process measurement, run as a child by bench/run.ts:
 *
 *   node --import tsx bench/inproc.ts FILE [--json]
 *
 * Times analyzeFile() alone, one thread, streaming as the CLI does (read → decode → flow state → findings → judged
 * connections folded into a ReportSpool that keeps counts and aggregates, not rows; no process start-up, no output),
 * so its peak RSS is the pipeline's, not a whole report's. With --json, the spool also writes the connections' and
 * findings' JSON to its runs (what `--json` pays before copying them out). Prints one JSON line on stdout.
 */
import { analyzeFile } from '../src/analyze/analyze.js';
import { ReportSpool } from '../src/analyze/spool.js';

export interface InprocResult {
  packets: number;
  connections: number;
  findings: number;
  analyzeMs: number;
  /** User + system CPU time of analyzeFile(). */
  cpuMs: number;
  /** process.resourceUsage().maxRSS after analyzeFile, in KiB. */
  maxRssKiB: number;
  heapUsedMiB: number;
  captureError: string | null;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined || file.startsWith('-')) {
    process.stderr.write('usage: node --import tsx bench/inproc.ts FILE [--json]\n');
    process.exit(file === '--help' || file === '-h' ? 0 : 2);
  }
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const json = process.argv.includes('--json');
  const spool = new ReportSpool({ json, ladders: 'findings' });
  const { report, result } = await analyzeFile(file, { spool });
  const analyzeMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const out: InprocResult = {
    packets: report.capture.packets, connections: report.summary.connections,
    findings: Object.values(report.summary.findings).reduce((a, b) => a + (b ?? 0), 0),
    analyzeMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKiB: process.resourceUsage().maxRSS, heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    captureError: result.error?.oneLine() ?? null,
  };
  spool.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
