/**
 * A large capture made of a real one: fixtures/port-reuse-narrow-range.pcap (30 connections, 300 packets, from a
 * namespace) repeated `copies` times, each copy shifted in time past TIME_WAIT so the copies do not interact.
 * For the tests that need a lot of input or a lot of output (interrupts, slow readers, memory).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { readFrames, remapPorts, shiftTime, toPcap, type Frame } from './rewrite.js';

const SEED = fileURLToPath(new URL('../../fixtures/port-reuse-narrow-range.pcap', import.meta.url));
/** Seconds between copies (more than the 240 s a closed tuple is remembered). */
const GAP = 600n;

export async function bigCapture(copies: number): Promise<Buffer> {
  const seed = await readFrames(SEED);
  const out: Frame[] = [];
  for (let i = 0; i < copies; i++) out.push(...shiftTime(seed, BigInt(i) * GAP * 1_000_000_000n));
  return toPcap(out);
}

/** The same, written to `path` copy by copy (nothing large held in memory). Returns the packet count. */
export async function writeBigCapture(path: string, copies: number): Promise<number> {
  const seed = await readFrames(SEED);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, PcapWriter.fileHeader());
    for (let i = 0; i < copies; i++) {
      const body = toPcap(shiftTime(seed, BigInt(i) * GAP * 1_000_000_000n)).subarray(24);
      writeSync(fd, body);
    }
  } finally {
    closeSync(fd);
  }
  return seed.length * copies;
}

/** Where manyConnections() starts: capture time 1.8e9 s, in nanoseconds. */
export const MANY_T0 = 1_800_000_000_000_000_000n;

/**
 * `n` copies of fixtures/fin-client-first.pcap (one connection, 11 segments, from a namespace), each on a client port
 * of its own (20000 + i), `gapNs` apart from MANY_T0: many closed connections within the reopen window, so the
 * analysis threads' stores of judged connections outgrow their buffer in memory and go to a temporary file.
 */
export async function manyConnections(n: number, gapNs: bigint): Promise<Frame[]> {
  const base = await readFrames(fileURLToPath(new URL('../../fixtures/fin-client-first.pcap', import.meta.url)));
  const t0 = BigInt(base[0]!.tsSec) * 1_000_000_000n + BigInt(base[0]!.tsNsec);
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const own = base.map((f) => ({ ...f, bytes: new Uint8Array(f.bytes) })); // (remapPorts writes its frames' bytes)
    out.push(...shiftTime(remapPorts(own, (p) => (p >= 10000 ? 20000 + i : p)), MANY_T0 + BigInt(i) * gapNs - t0));
  }
  return out;
}
