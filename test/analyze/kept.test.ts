import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packContribution, unpackContribution } from '../../src/analyze/kept.js';
import { ReportSpool, spoolRecord, type Contribution, type SpoolConnection } from '../../src/analyze/spool.js';
import { streamAnalysis } from '../../src/analyze/stream.js';
import { openCapture } from '../../src/capture/open.js';
import { fixtureCaptures } from '../helpers/fixture-captures.js';

/** What a judged connection kept before it was packed: its record's share of the summary, without the JSON. */
const contributionOf = (r: SpoolConnection): Contribution => ({
  ff: r.ff, seq: r.seq, version: r.version, teardown: r.teardown, oneSided: r.oneSided,
  findings: r.findings.map((f) => ({ ...f, json: null })),
});

test('a judged connection keeps its share of the summary as numbers only, unpacked exactly (every fixture)', async () => {
  let judged = 0;
  const kinds = new Set<string>();
  for (const path of fixtureCaptures()) {
    const spool = new ReportSpool({ json: false });
    try {
      await streamAnalysis(await openCapture(path), {
        spool,
        sink: {
          hooks: {
            onJudged: (c, findings, seq, version) => {
              const rec = spoolRecord(c, findings, seq, version, spool.opts);
              const packed = packContribution(rec);
              // Frozen with the connection (src/tcp/frozen.ts) in one pass: no object, no string.
              assert.ok(Array.isArray(packed) && packed.every((x) => typeof x === 'number'), `${path} ${c.id}`);
              assert.deepEqual(unpackContribution(packed), contributionOf(rec), `${path} ${c.id}`);
              for (const f of findings) kinds.add(f.kind);
              judged++;
            },
          },
        },
      });
    } finally {
      spool.close();
    }
  }
  assert.ok(judged > 100, `${judged} connections judged`);
  assert.ok(kinds.size >= 8, `finding kinds met: ${[...kinds].join(', ')}`);
});
