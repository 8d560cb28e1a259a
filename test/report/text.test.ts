import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { textReport } from '../../src/report/text.js';

test('text report: counts of one take the singular ("1 connection", "1 reuse", "1 port")', async () => {
  const one = textReport((await analyzeFile('fixtures/rst-linger0.pcap')).report);
  assert.match(one, /^ {2}8 packets \(8 TCP\), 1 connection, /m);
  const tw = textReport((await analyzeFile('fixtures/tw-reuse-lower-isn.pcap')).report);
  assert.match(tw, / 2 connections from 1 port, rate: not enough data, 1 reuse \(1 rejected\)/);
});
