import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureCapture } from '../../bench/make-capture.js';
import { openDb, type Db } from '../../src/results/duckdb.js';
import { allFixtures, analyzeDigest, analyzeTo, reportOutputs } from './util.js';

/**
 * Sharding is exact: for N = 1 (the single run itself: --shard 0/1 keeps everything), 2, 3, 7 the shards' result
 * folders merged by `report` print the same report as one unsharded run — the --json output byte for byte
 * (connections with their renumbered ids, findings, summary, aggregates, labels, over time) except the list of
 * shards present, and the --text output — and the single run's report is analyze's own (--json byte for byte).
 */
const SPLITS = [2, 3, 7];

/** The merge's own fields without `captures` (the folders and shards present differ by construction). */
const withoutCaptures = (tail: string): string => tail.replace(/\n {2}"captures": .*\n/, '\n');
/** The text report without its Captures section (the same reason). */
const textWithoutCaptures = (text: string): string => text.replace(/\n\nCaptures\n( {2}.*\n?)*/, '\n');

async function shardedEqualsWhole(db: Db, tmp: string, capture: string, tag: string): Promise<{ connections: number; shardSizes: number[][] }> {
  const whole = join(tmp, `${tag}-all`);
  const report = await analyzeTo(db, capture, whole);
  const one = await reportOutputs(db, [whole]);
  assert.equal(one.body, analyzeDigest(report), `${capture}: report --json of the single run differs from analyze --json`);
  const shardSizes: number[][] = [[report.connections.length]];
  for (const n of SPLITS) {
    const dirs: string[] = [];
    const sizes: number[] = [];
    for (let k = 0; k < n; k++) {
      const dir = join(tmp, `${tag}-${k}of${n}`);
      sizes.push((await analyzeTo(db, capture, dir, { shard: { k, n } })).connections.length);
      dirs.push(dir);
    }
    shardSizes.push(sizes);
    const merged = await reportOutputs(db, dirs.reverse()); // folder order does not matter
    assert.equal(merged.body, one.body, `${capture}: ${n} shards merged: report --json differs from the single run's`);
    assert.equal(withoutCaptures(merged.tail), withoutCaptures(one.tail), `${capture}: ${n} shards merged: labels or overTime differ`);
    assert.equal(textWithoutCaptures(merged.text), textWithoutCaptures(one.text), `${capture}: ${n} shards merged: the text report differs`);
    const captures = (JSON.parse(`{${merged.tail.slice(1)}`) as { captures: { shards: { present: number[] } }[] }).captures;
    assert.deepEqual(captures.map((c) => c.shards.present.length), [n]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  rmSync(whole, { recursive: true, force: true });
  return { connections: report.connections.length, shardSizes };
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

  it('a generated capture of 100 000 connections', async () => {
    // Generated once into this file's temporary folder (about 1.4 M packets, 2 s).
    const { path, meta } = ensureCapture({ packets: 1_400_000, bulkShare: 0, out: join(tmp, 'gen.pcap'), log: () => {} });
    assert.ok(meta.connections >= 100_000, `connections generated: ${meta.connections}`);
    const { connections, shardSizes } = await shardedEqualsWhole(db, tmp, path, 'gen');
    assert.ok(connections >= 100_000);
    // A fair hash: every one of 7 shards within 5% of its share.
    for (const n of shardSizes[3]!) assert.ok(Math.abs(n - connections / 7) < connections / 7 * 0.05, `shard sizes ${shardSizes[3]!.join(', ')}`);
  });
});
