import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SYN, ACK, FIN } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/tcp/flow-table.js';
import { pkt } from '../helpers/table-segments.js';

describe('flow table', () => {
  test('a sweep judges closed connections after the linger, keeps open ones reachable, drops expired tombstones', () => {
    const judged: string[] = [];
    const t = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: Infinity },
      (c) => { judged.push(c.id); return []; });
    // 3000 tuples. Even ones close (SYN, SYN-ACK, ACK, FIN/ACK both ways), odd stay open.
    for (let i = 0; i < 3000; i++) {
      const cl = 0x0a000000 + i;
      t.ingest(pkt(cl, 40000, 0x0a0000ff, 80, SYN, 100), i * 3 + 1, 0);
      t.ingest(pkt(0x0a0000ff, 80, cl, 40000, SYN | ACK, 500, 101), i * 3 + 2, 0);
      if (i % 2 === 0) {
        t.ingest(pkt(cl, 40000, 0x0a0000ff, 80, FIN | ACK, 101, 501), i * 3 + 3, 0);
        t.ingest(pkt(0x0a0000ff, 80, cl, 40000, FIN | ACK, 501, 102), i * 3 + 3, 0);
        t.ingest(pkt(cl, 40000, 0x0a0000ff, 80, ACK, 102, 502), i * 3 + 3, 0);
      }
    }
    t.sweep(10); // closed ones are judged (linger 5 s), open ones stay
    assert.equal(judged.length, 1500);
    assert.equal(t.active, 1500);
    t.sweep(10); // a second sweep finds the same open connections (nothing unlinked by mistake)
    assert.equal([...t.current()].length, 1500);
    // Every open tuple still maps to its connection: a data packet does not create a new connection.
    const before = t.active;
    for (let i = 1; i < 3000; i += 2) t.ingest(pkt(0x0a000000 + i, 40000, 0x0a0000ff, 80, ACK, 101, 501), 99999, 11);
    assert.equal(t.active, before);
    t.sweep(300); // tombstones of the closed ones expire and their entries go
    assert.equal(t.entries, 1500);
  });
});
