/**
 * An analysis thread's batches of judged connections (SpoolBatch, src/analyze/spool.ts): a batch's buffer handed
 * back by the reader is where the next batch is written, and the records written there are the same bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnalysisSession } from '../../src/analyze/session.js';
import { SpoolBatch } from '../../src/analyze/spool.js';
import { openCapture } from '../../src/capture/open.js';
import { FIXTURES } from '../helpers/fixture-captures.js';

/** Every judged connection of a real capture, as an analysis thread writes it into `batch`. */
async function judgeInto(batch: SpoolBatch): Promise<void> {
  const s = new AnalysisSession({}, {}, { spool: batch });
  const src = await openCapture(`${FIXTURES}tw-reuse-higher-isn.pcap`);
  let last = 0;
  await src.run((f) => { s.ingest(f); last = f.tsSec + f.tsNsec * 1e-9; });
  s.endOfInput(last);
}

test('a batch buffer handed back is where a later batch is written, with the same bytes; without one a fresh buffer', async () => {
  const batch = new SpoolBatch({ json: true }, () => {});
  await judgeInto(batch);
  assert.ok(batch.size >= 2, `${batch.size} connections`);
  const first = batch.take();
  const copy = Buffer.from(Buffer.from(first.bytes, 0, first.used));
  // Handed back once read (a batch is already being written in the buffer take() started).
  batch.recycle(first.bytes);
  await judgeInto(batch);
  const second = batch.take();
  assert.ok(second.bytes !== first.bytes);
  // Now in the buffer handed back (not zeroed: the records overwrite what was there).
  await judgeInto(batch);
  const third = batch.take();
  assert.ok(third.bytes === first.bytes, 'the buffer handed back holds a later batch');
  assert.equal(third.used, first.used);
  assert.ok(Buffer.from(third.bytes, 0, third.used).equals(copy), 'the same bytes');
  assert.deepEqual(third.meta, first.meta);
  await judgeInto(batch);
  const fourth = batch.take();
  assert.ok(fourth.bytes !== first.bytes && fourth.bytes !== second.bytes, 'nothing handed back: a fresh buffer');
  assert.ok(Buffer.from(fourth.bytes, 0, fourth.used).equals(copy));
});
