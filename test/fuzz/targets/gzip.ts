/**
 * Fuzz target: the gzip path of `openCapture` (sniffing, inflating, damaged and cut-off streams) and the analysis
 * behind it, fed as standard input; the report's invariants are checked.
 */
import { Readable } from 'node:stream';
import { analyzeSource } from '../../../src/analyze/analyze.js';
import { openCapture } from '../../../src/capture/open.js';
import { checkReport } from '../invariants.js';
import { checkErrorLine, cutOf } from './common.js';

export async function fuzz(data: Buffer): Promise<void> {
  const cut = cutOf(data) % (data.length + 1);
  const stdin = Readable.from([data.subarray(0, cut), data.subarray(cut)].filter((b) => b.length > 0), { objectMode: false });
  const source = await openCapture('-', { stdin: stdin as unknown as NodeJS.ReadableStream });
  const { report, result } = await analyzeSource(source);
  if (result.error !== null) checkErrorLine(result.error.oneLine().replace(/^-: /, 'fuzz: '));
  checkReport(report);
}
