import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACK, FIN, SYN } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/tcp/flow-table.js';
import { CLIENT, close, nextFrame, open, pkt, SERVER } from '../helpers/table-segments.js';

/** A table that records, per judgement, the connection's port and the capture loss it is judged with. */
function table(idleFreeze: number): { tab: FlowTable; judged: [number, number][] } {
  const judged: [number, number][] = [];
  const tab: FlowTable = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 100_000, idleFreeze },
    (c, e) => { judged.push([c.clientIsA ? e.aPort : e.bPort, tab.lossOf(c)]); return []; });
  return { tab, judged };
}

describe('capture loss (live drops) on the flow table', () => {
  test('a loss costs O(1), not a pass over the open connections', () => {
    // While a live capture drops, every analysis thread is told of a loss before its next frame: one per frame. A pass
    // over 20 000 open tuples per loss is 200 million visits for 10 000 dropped frames, and the thread that makes
    // them falls further behind, so it drops more.
    const { tab } = table(Infinity);
    for (let i = 0; i < 20_000; i++) open(tab, 1024 + i, 0);
    const before = tab.visits;
    for (let i = 0; i < 10_000; i++) tab.captureLoss(1);
    assert.equal(tab.visits - before, 0);
  });

  test('each connection is judged with what was lost while it was tracked: open, asleep, or reopened', () => {
    for (const idleFreeze of [Infinity, 1]) {
      const { tab, judged } = table(idleFreeze);
      open(tab, 2000, 0);
      tab.captureLoss(2);
      open(tab, 2001, 1); // opened after the first loss: not in it
      tab.sweep(3); // with idleFreeze 1, port 2000 falls asleep here (and 2001 too): the next loss reaches them asleep
      tab.captureLoss(3);
      close(tab, 2000, 10);
      close(tab, 2001, 10);
      tab.sweep(16);
      assert.deepEqual(judged, [[2000, 5], [2001, 3]], `idleFreeze ${idleFreeze}`);
      // Judged, then reopened by a late FIN within the reopen window: what was lost while it rested judged is not its.
      tab.captureLoss(7);
      tab.ingest(pkt(SERVER, 80, CLIENT, 2000, FIN | ACK, 5001, 1002), nextFrame(), 20);
      tab.captureLoss(1);
      tab.sweep(26);
      assert.deepEqual(judged.at(-1), [2000, 6], `idleFreeze ${idleFreeze}`);
      // A connection opened after all of it has none.
      open(tab, 2002, 30);
      close(tab, 2002, 30);
      tab.sweep(36);
      assert.deepEqual(judged.at(-1), [2002, 0], `idleFreeze ${idleFreeze}`);
    }
  });
});
