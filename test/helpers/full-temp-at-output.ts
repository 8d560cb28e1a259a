/**
 * Preloaded into the CLI by test/cli/failures.test.ts (node --import): the temporary directory fills once the
 * report is being written, not while the capture is read. TD_FULL_AT=handoff: the pair spill's last run cannot be
 * written when it goes to the aggregates' thread (ReportSpool.foldPairsAside() throws, as its write would);
 * TD_FULL_AT=thread: the aggregates' thread reports a full directory after the connections went out (its `ready`
 * rejects, as PairsAside's does on the thread's ENOSPC). Both for any report size: with two threads the CLI asks for
 * the aside fold whatever the size. Test-only: the product has no such switch.
 */
import { ReportSpool } from '../../src/analyze/spool.js';
import { TempDirError } from '../../src/analyze/temp-dir.js';

const at = process.env.TD_FULL_AT;
ReportSpool.prototype.foldPairsAside = function () {
  if (at === 'handoff') throw new TempDirError('ENOSPC');
  const ready = Promise.reject(new TempDirError('ENOSPC'));
  ready.catch(() => undefined);
  return { ready, rows: () => { throw new Error('not folded'); }, close: () => undefined } as unknown as ReturnType<ReportSpool['foldPairsAside']>;
};
