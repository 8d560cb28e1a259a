import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DiskColdStore } from '../../src/analyze/cold-store.js';
import { tempDirs } from '../../src/analyze/temp-dir.js';

describe('the store of asleep connections on disk', () => {
  test('every string back exactly, from the file and from the buffer, in any order; the file removed at close', () => {
    const store = new DiskColdStore();
    const before = tempDirs().length;
    let all = '';
    for (let c = 0; c < 256; c++) all += String.fromCharCode(c);
    const put: [number, string][] = [];
    let x = 1;
    for (let i = 0; i < 6000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      // Mostly a few hundred bytes, every byte value; a few larger than the write buffer.
      const len = i % 1000 === 999 ? (1 << 20) + 17 : x % 900;
      let s = '';
      while (s.length < len) s += all.slice(x % 256, (x % 256) + Math.min(256, len - s.length));
      s = s.slice(0, len);
      put.push([store.put(s), s]);
    }
    assert.ok(tempDirs().length > before, 'records went to a file');
    for (let i = put.length - 1; i >= 0; i -= 7) assert.equal(store.take(put[i]![0]), put[i]![1], `record ${i}`);
    for (let i = 0; i < put.length; i += 3) assert.equal(store.take(put[i]![0]), put[i]![1], `record ${i}`);
    store.close();
    assert.equal(tempDirs().length, before);
  });
});
