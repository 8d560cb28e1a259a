/**
 * Fuzz target: the gzip path of `openCapture` (sniffing, inflating, damaged and cut-off streams) and the analysis
 * behind it, fed as standard input; the report's invariants are checked.
 */
import { Readable } from 'node:stream';
import { analyzeSource } from '../../../src/analyze/analyze.js';
import { openCapture } from '../../../src/capture/open.js';
import { checkReport } from '../invariants.js';
import { checkErrorLine, cutOf } from './common.js';

/**
 * Inflated chunks of 16 KiB instead of 256 KiB: the same reader, but each case no longer allocates a 256 KiB output
 * buffer, whose external memory made V8 run a full mark-compact every ~60 cases (most of a case's cost). Inflated
 * data larger than a chunk still crosses chunk boundaries.
 */
const INFLATE_CHUNK = 16 * 1024;

export async function fuzz(data: Buffer): Promise<void> {
  const cut = cutOf(data) % (data.length + 1);
  const stdin = Readable.from([data.subarray(0, cut), data.subarray(cut)].filter((b) => b.length > 0), { objectMode: false });
  const source = await openCapture('-', { stdin: stdin as unknown as NodeJS.ReadableStream, inflateChunkSize: INFLATE_CHUNK });
  const { report, result } = await analyzeSource(source);
  if (result.error !== null) checkErrorLine(result.error.oneLine().replace(/^-: /, 'fuzz: '));
  checkReport(report);
}
