import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressText } from '../../src/analyze/address-text.js';
import { formatAddress } from '../../src/decode/format.js';

test('AddressText gives formatAddress() text for every address, whichever held its slot before', () => {
  const t = new AddressText();
  // Enough distinct addresses that slots are shared and retaken many times, 0 and addresses above 2^31 among them.
  const words: number[] = [0, 0xffffffff, 0x80000000, 0x0a000001, 0x7f000001];
  let x = 12345;
  for (let i = 0; i < 20000; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; words.push(x); }
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < words.length; i += 1 + round) {
      const w = words[i] as number;
      assert.equal(t.of(4, w, 0, 0, 0), formatAddress(4, [w]), `0x${w.toString(16)}`);
    }
  }
  assert.equal(t.of(6, 0x20010db8, 0, 0, 1), '2001:db8::1');
  assert.equal(t.of(6, 0, 0, 0xffff, 0x0a000001), '::ffff:10.0.0.1');
});
