/** SortedSpill's merge of many runs: every record back in key order, with a bounded number of files open. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { SortedSpill } from '../../src/analyze/spill.js';

const openFiles = (): number => readdirSync('/proc/self/fd').length;

test('a merge of hundreds of runs keeps at most its open-run bound of files open and loses no record', { skip: existsSync('/proc/self/fd') ? false : 'no /proc/self/fd' }, () => {
  const spill = new SortedSpill('many', 4096, 8);
  const n = 20_000;
  // Keys in a scrambled order, some equal (ties come out in the order they were added).
  for (let i = 0; i < n; i++) spill.add((i * 7919) % 5000, 0, 0, 0, [i], 1, `r${i}`);
  assert.ok(spill.runCount > 200, `${spill.runCount} runs`);
  const before = openFiles();
  let most = 0;
  let seen = 0;
  let last = -1;
  let lastI = -1;
  for (const r of spill.sorted()) {
    if (seen % 97 === 0) most = Math.max(most, openFiles() - before);
    assert.ok(r.k0 > last || (r.k0 === last && r.num(0) > lastI), `order at ${seen}`);
    assert.equal(r.text(), `r${r.num(0)}`);
    last = r.k0; lastI = r.num(0); seen++;
  }
  assert.equal(seen, n);
  // Other tests of the same process may open or close a file meanwhile (the thread pool does it beside this code):
  // a margin of a few, against one file per run (over 200) without the bound.
  assert.ok(most <= 8 + 4, `${most} files open at once while merging ${spill.runCount} runs`);
  assert.ok(openFiles() <= before + 2, 'every run closed at the end');
  spill.close();
});

test('runs of records small and larger than the write chunk come back whole and in key order', () => {
  // Runs of 200 KiB: records of 40 bytes to 150 KiB (past the 64 KiB chunk a run is written through), keys scrambled.
  const spill = new SortedSpill('sizes', 200 << 10);
  const n = 400;
  const text = (i: number): string => String.fromCharCode(0x61 + (i % 26)).repeat(i % 9 === 0 ? 70_000 + 200 * i : (i * 37) % 3000);
  for (let i = 0; i < n; i++) spill.add((i * 7919) % 101, i, 0, 0, [i, -i], 2, `${i}:`, { buf: Buffer.from(text(i)), at: 0, end: text(i).length });
  assert.ok(spill.runCount > 10, `${spill.runCount} runs`);
  let seen = 0;
  let last: [number, number] = [-1, -1];
  for (const r of spill.sorted()) {
    assert.ok(r.k0 > last[0] || (r.k0 === last[0] && r.k1 > last[1]), `order at ${seen}`);
    const i = r.num(0);
    assert.equal(r.num(1), -i);
    assert.equal(r.text(), `${i}:${text(i)}`);
    last = [r.k0, r.k1];
    seen++;
  }
  assert.equal(seen, n);
  spill.close();
});

test('a merge reads every run through buffers that fit its read budget together, however many runs there are', () => {
  // ~400 runs sharing a 2 MiB budget: ~5 KiB reads, under 2 MiB in all, against 64 KiB per run (~26 MB) without it.
  const many = new SortedSpill('budget', 2048, 16, 2 << 20);
  const n = 15_000;
  for (let i = 0; i < n; i++) many.add((i * 7919) % 4999, 0, 0, 0, [i], 1, `r${i}`);
  assert.ok(many.runCount > 250, `${many.runCount} runs`);
  let most = 0;
  let seen = 0;
  let last = -1;
  for (const r of many.sorted()) {
    most = Math.max(most, many.mergeBufferBytes);
    assert.ok(r.k0 >= last, `order at ${seen}`);
    assert.equal(r.text(), `r${r.num(0)}`);
    last = r.k0; seen++;
  }
  assert.equal(seen, n);
  // budget / runs each, rounded down: the whole budget but for under a byte per run.
  assert.ok(most <= 2 << 20 && most > (2 << 20) - many.runCount, `${most} bytes of read buffers for ${many.runCount} runs`);
  many.close();

  // Past budget / 4 KiB runs each still reads 4 KiB at a time; with a few runs each reads 64 KiB at most.
  const floor = new SortedSpill('floor', 2048, 16, 64 << 10);
  for (let i = 0; i < 3000; i++) floor.add(i % 97, 0, 0, 0, [i], 1, `r${i}`);
  const f = floor.sorted();
  f.next();
  assert.equal(floor.mergeBufferBytes, floor.runCount * 4096, `${floor.runCount} runs at the 4 KiB floor`);
  f.return(undefined);
  floor.close();

  const few = new SortedSpill('few', 64 << 10, 16, 8 << 20);
  for (let i = 0; i < 6000; i++) few.add((i * 7919) % 4999, 0, 0, 0, [i], 1, `r${i}`.padEnd(40, '.'));
  assert.ok(few.runCount >= 3 && few.runCount < 16, `${few.runCount} runs`);
  const it = few.sorted();
  it.next();
  assert.equal(few.mergeBufferBytes, few.runCount * (64 << 10), 'a few runs read 64 KiB at a time');
  it.return(undefined);
  assert.equal(few.mergeBufferBytes, 0, 'buffers let go once the merge ends');
  few.close();
});
