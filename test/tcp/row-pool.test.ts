import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Connection } from '../../src/tcp/connection.js';
import { ROWS } from '../../src/tcp/endpoint.js';
import { freeze, thaw } from '../../src/tcp/frozen.js';
import { RowPool } from '../../src/tcp/row-pool.js';
import { Pair } from './builders.js';

describe('pooled rows', () => {
  test('rows never overlap past a chunk, a freed row is handed out again zeroed, chunks follow the rows alive at once', () => {
    const pool = new RowPool(3, 4);
    const rows: [Float64Array, number][] = [];
    for (let i = 0; i < 10; i++) {
      const c = pool.take();
      const at = pool.lastAt;
      c.fill(i + 1, at, at + 3);
      rows.push([c, at]);
    }
    assert.equal(pool.chunkCount, 3);
    rows.forEach(([c, at], i) => assert.deepEqual([...c.subarray(at, at + 3)], [i + 1, i + 1, i + 1]));
    for (const [c, at] of rows.slice(0, 5)) pool.free(c, at);
    for (let i = 0; i < 5; i++) {
      const c = pool.take();
      assert.deepEqual([...c.subarray(pool.lastAt, pool.lastAt + 3)], [0, 0, 0]);
    }
    assert.equal(pool.chunkCount, 3);
    assert.equal(pool.live, 10);
  });

  test('a connection freed gives its rows to the next one, which starts from zero; a long log keeps its first rows', () => {
    const a = new Pair();
    a.c('S').s('S.').c('.');
    for (let i = 0; i < 20; i++) a.c('P.', { len: 10 }).s('.');
    a.c('F.').s('F.').c('.');
    const packets = a.conn.log.packets();
    assert.deepEqual(packets.slice(0, 12).map((r) => r.frame), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(packets[0]?.note, 'SYN');
    assert.equal(packets.at(-1)?.frame, a.frame);
    const isn = a.conn.ep[0].isn;
    assert.equal(isn, 1000);
    a.conn.free();
    const b = new Pair();
    assert.equal(b.conn.ep[0].isn, 0);
    assert.equal(b.conn.ep[1].sndMax, 0);
    assert.deepEqual(b.conn.log.packets(), []);
    b.c('S');
    assert.deepEqual(b.conn.log.packets().map((r) => r.frame), [1]);
    assert.equal(b.conn.ep[0].isn, 1000);
  });

  test('a connection thawed and freed again gives back every endpoint row it took (an idle connection sleeps and wakes many times)', () => {
    const a = new Pair();
    a.c('S').s('S.').c('.').c('P.', { len: 5 }).s('.').c('F.').s('F.').c('.');
    const frozen = freeze(a.conn);
    a.conn.free();
    const before = ROWS.live;
    for (let i = 0; i < 3; i++) thaw<Connection>(frozen).free();
    assert.equal(ROWS.live, before);
  });
});
