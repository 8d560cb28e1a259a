/**
 * The in-process measurement, run as a child by bench/run.ts:
 *
 *   node --import tsx bench/inproc.ts FILE [--json]
 *
 * Times analyzeFile() alone (read → decode → flow state → findings → final report; no process start-up, no
 * output), then, with --json, the JSON report (jsonChunks joined) of the result. Prints one JSON line on stdout.
 */
import { analyzeFile } from '../src/analyze/analyze.js';
import { jsonChunks } from '../src/report/json.js';

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
  jsonMs: number | null;
  jsonBytes: number | null;
  jsonError: string | null;
  captureError: string | null;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: bench/inproc.ts FILE [--json]');
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const { report, result } = await analyzeFile(file);
  const analyzeMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const out: InprocResult = {
    packets: report.capture.packets, connections: report.summary.connections, findings: report.findings.length,
    analyzeMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKiB: process.resourceUsage().maxRSS, heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    jsonMs: null, jsonBytes: null, jsonError: null, captureError: result.error?.oneLine() ?? null,
  };
  if (process.argv.includes('--json')) {
    const t1 = process.hrtime.bigint();
    try {
      const s = [...jsonChunks(report)].join('');
      out.jsonMs = Number(process.hrtime.bigint() - t1) / 1e6;
      out.jsonBytes = Buffer.byteLength(s);
    } catch (e) {
      out.jsonError = (e as Error).message;
    }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
