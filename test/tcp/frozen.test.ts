import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openCapture } from '../../src/capture/open.js';
import { decodeFrame } from '../../src/decode/decode.js';
import { newTcpPacket } from '../../src/decode/packet.js';
import type { Connection } from '../../src/tcp/connection.js';
import { FlowTable, tombstone } from '../../src/tcp/flow-table.js';
import type { Tombstone } from '../../src/tcp/tombstone.js';
import { freeze, thaw } from '../../src/tcp/frozen.js';
import { fixtureCaptures } from '../helpers/fixture-captures.js';

/** Every connection of a capture as the flow table judges it (a snapshot of its state at each judgement). */
async function judgedConnections(path: string, each: (c: Connection) => void): Promise<void> {
  const table = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 100_000 },
    (c) => { each(c); return []; });
  const p = newTcpPacket();
  let n = 0;
  let t = 0;
  const src = await openCapture(path);
  await src.run((f) => {
    if (decodeFrame(f, p) !== 'ok') return;
    t = f.tsSec + f.tsNsec * 1e-9;
    table.ingest(p, f.index, t);
    if (++n % 50 === 0) table.sweep(t);
  });
  table.flushAll(t);
}

describe('frozen judged connections', () => {
  test('thaw(freeze(c)) rebuilds every connection of every fixture, and its tombstone, exactly: classes, fields, shared records', async () => {
    let count = 0;
    let shared = 0;
    for (const path of fixtureCaptures()) {
      await judgedConnections(path, (c) => {
        const s = freeze(c);
        const back = thaw(s);
        assert.deepStrictEqual(back, c, `${path} ${c.id}`); // prototypes included
        assert.notEqual(back, c);
        // The accepted RST is one of its sender's RST records, in the copy too (a later packet may revise it).
        if (c.acceptedRst !== null) {
          shared++;
          assert.ok(back.ep[c.rstBy].rsts.includes(back.acceptedRst as NonNullable<typeof back.acceptedRst>), `${path} ${c.id}`);
        }
        assert.equal(freeze(back), s);
        // Its tombstone too (closing packets included): the tuple keeps it frozen.
        const tomb = tombstone(c, c.log.packets().slice(-4));
        const tombBack = thaw<Tombstone>(freeze(tomb));
        assert.deepStrictEqual(tombBack, tomb);
        assert.deepStrictEqual(tombBack.closeRecs, tomb.closeRecs);
        assert.deepStrictEqual([tombBack.sndMax, tombBack.isn, tombBack.closeFrames], [tomb.sndMax, tomb.isn, tomb.closeFrames]);
        count++;
      });
    }
    assert.ok(count > 200, `${count} connections`);
    assert.ok(shared > 20, `${shared} connections with an accepted RST`);
  });

  test('a frozen connection is a fraction of the live one', async () => {
    const sizes: number[] = [];
    await judgedConnections(fixtureCaptures().find((p) => p.endsWith('fin-3way.pcap')) as string, (c) => { sizes.push(freeze(c).length); });
    assert.ok(sizes.length > 0);
    for (const n of sizes) assert.ok(n < 1200, `${n} bytes`);
  });
});
