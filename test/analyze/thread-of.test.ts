/**
 * The thread a segment goes to under --threads N (threadOf, src/analyze/parallel.ts): the same for both directions
 * of a tuple, and spread evenly over the threads for client ports and addresses as stacks hand them out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { threadOf } from '../../src/analyze/parallel.js';
import { newTcpPacket, type TcpPacket } from '../../src/decode/packet.js';

function segment(src: number[], srcPort: number, dst: number[], dstPort: number): TcpPacket {
  const p = newTcpPacket();
  p.ipVersion = src.length === 1 ? 4 : 6;
  p.src.fill(0); p.src.set(src); p.dst.fill(0); p.dst.set(dst);
  p.srcPort = srcPort; p.dstPort = dstPort;
  return p;
}

test('both directions of a tuple go to one thread; tuples spread evenly over 2, 3 and 4 threads', () => {
  const v4 = (a: number, b: number, c: number, d: number): number[] => [((a << 24) | (b << 16) | (c << 8) | d) >>> 0];
  const cases: [string, (i: number) => [number[], number, number[], number]][] = [
    // One client, sequential ephemeral ports, one server: only the port changes.
    ['ports', (i) => [v4(10, 0, 0, 1), 32768 + i, v4(10, 0, 0, 2), 443]],
    // Many clients of a /16 on one fixed port, a few servers.
    ['clients', (i) => [v4(10, 64, i >> 8 & 255, i & 255), 50000, v4(10, 0, 0, 30 + (i % 4)), 5000 + (i % 3)]],
    // IPv6 clients differing in the last word.
    ['v6', (i) => [[0x20010db8, 0, 0, i], 40000 + (i % 7), [0x20010db8, 1, 0, 1], 80]],
  ];
  for (const [name, make] of cases) {
    for (const n of [2, 3, 4]) {
      const count = new Array<number>(n).fill(0);
      const total = 20000;
      for (let i = 0; i < total; i++) {
        const [a, ap, b, bp] = make(i);
        const t = threadOf(segment(a, ap, b, bp), n);
        assert.equal(threadOf(segment(b, bp, a, ap), n), t, `${name}: ${i} both directions`);
        count[t] = (count[t] as number) + 1;
      }
      for (const c of count) assert.ok(Math.abs(c - total / n) < 0.05 * total / n, `${name} over ${n} threads: ${count.join(' / ')}`);
    }
  }
});
