import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureCapture } from '../../bench/make-capture.js';
import { openDb, type Db } from '../../src/results/duckdb.js';
import { allFixtures, analyzeTo, canonical, reportOf } from './util.js';

/**
 * Sharding is exact: for N = 1 (the single run itself: --shard 0/1 keeps everything), 2, 3, 7 the shards' result folders merged by `report` give the same report as one
 * unsharded run (connections, findings, aggregates, breakdowns; only the list of shards present differs).
 */
const SPLITS = [2, 3, 7];

async function shardedEqualsWhole(db: Db, tmp: string, capture: string, tag: string): Promise<{ connections: number; shardSizes: number[][] }> {
  const whole = join(tmp, `${tag}-all`);
  await analyzeTo(db, capture, whole);
  const one = await reportOf(db, [whole]);
  const { captures: _c, ...expected } = one;
  const shardSizes: number[][] = [];
  for (const n of SPLITS) {
    const dirs: string[] = [];
    const sizes: number[] = [];
    for (let k = 0; k < n; k++) {
      const dir = join(tmp, `${tag}-${k}of${n}`);
      sizes.push((await analyzeTo(db, capture, dir, { shard: { k, n } })).connections.length);
      dirs.push(dir);
    }
    shardSizes.push(sizes);
    const merged = await reportOf(db, dirs.reverse()); // folder order does not matter
    const { captures, ...got } = merged;
    assert.equal(canonical(got), canonical(expected), `${capture}: ${n} shards merged differ from the single run`);
    assert.deepEqual(captures.map((c) => c.shards.present.length), [n]);
  }
  return { connections: one.connections.length, shardSizes: [[one.connections.length], ...shardSizes] };
}

describe('--shard K/N is exact', () => {
  let db: Db;
  let tmp: string;
  before(async () => { db = await openDb('test'); tmp = mkdtempSync(join(tmpdir(), 'teardown-shard-')); });
  after(() => { db.close(); rmSync(tmp, { recursive: true, force: true }); });

  it('every fixture: the union of the shards merged equals the single run', async () => {
    const fixtures = allFixtures();
    assert.ok(fixtures.length >= 40, `fixtures found: ${fixtures.length}`);
    let spread = 0;
    for (const [i, f] of fixtures.entries()) {
      const { shardSizes } = await shardedEqualsWhole(db, tmp, f, `f${i}`);
      // Connections do spread over shards (not all in one): checked over the corpus, not per capture.
      if (shardSizes[3]!.filter((n) => n > 0).length > 1) spread++;
    }
    assert.ok(spread >= 10, `captures whose connections spread over several of 7 shards: ${spread}`);
  });

  it('a generated capture of about 20 000 connections', async () => {
    const { path, meta } = ensureCapture({ packets: 280_000, bulkShare: 0, out: join(tmp, 'gen.pcap'), log: () => {} });
    assert.ok(meta.connections >= 19_000, `connections generated: ${meta.connections}`);
    const { connections, shardSizes } = await shardedEqualsWhole(db, tmp, path, 'gen');
    assert.ok(connections >= 19_000);
    // A fair hash: every one of 7 shards within 15% of its share.
    for (const n of shardSizes[3]!) assert.ok(Math.abs(n - connections / 7) < connections / 7 * 0.15, `shard sizes ${shardSizes[3]!.join(', ')}`);
  });
});
