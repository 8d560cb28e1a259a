/**
 * What the report spool keeps per `next` link to the end of a streamed analysis: a busy capture reuses tuples all
 * the time (one link per ~12 connections on the bench capture, ~200 k on its 35 M-packet version), so the cost per
 * link is part of what grows with the capture. Measured as heap plus array buffers after a full GC, with and
 * without the links (a count of bytes, not of time).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ReportSpool } from '../../src/analyze/spool.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heldAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

test('a next link costs the spool under 64 bytes (heap and buffers), not a Map entry, an array, a string and a number', () => {
  const n = 100_000;
  const before = heldAfterGc();
  let spool: ReportSpool | null = new ReportSpool({ json: true });
  // As threads name them: a thread's number and its own ordinal between U+0001 and U+0002.
  for (let i = 0; i < n; i++) spool.link(3 * i + 1, `\u0001${i & 1}.${5 * i + 2}\u0002`, 1_700_000_000 + i * 1e-3);
  const per = (heldAfterGc() - before) / n;
  spool.close();
  spool = null;
  assert.ok(per < 64, `${per.toFixed(0)} bytes per link`);
});
