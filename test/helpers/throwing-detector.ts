/**
 * Preloaded into the CLI by test/cli/failures.test.ts (node --import): makes the analysis throw on frame
 * TD_THROW_AT, as a bug in a detector would, to check that such a failure ends with one line, exit 2 and the report
 * of the frames before it. Test-only: the product has no such switch.
 */
import { AnalysisSession } from '../../src/analyze/session.js';

const at = Number(process.env.TD_THROW_AT);
const ingest = AnalysisSession.prototype.ingest;
AnalysisSession.prototype.ingest = function (this: AnalysisSession, frame) {
  if (frame.index === at) throw new TypeError("Cannot read properties of undefined (reading 'seq')");
  ingest.call(this, frame);
};
