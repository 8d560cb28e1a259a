/** Shared helpers for the capture tests: copy frames out of the reused RawFrame, feed parsers in odd chunks. */
import type { CaptureParser } from '../../src/capture/pcap.js';
import type { RawFrame } from '../../src/capture/types.js';

export interface FrameCopy {
  index: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  interfaceId: number;
  capLength: number;
  wireLength: number;
  fileOffset: number;
  bytes: Buffer;
}

export function copyFrame(f: RawFrame): FrameCopy {
  return {
    index: f.index,
    tsSec: f.tsSec,
    tsNsec: f.tsNsec,
    linkType: f.linkType,
    interfaceId: f.interfaceId,
    capLength: f.capLength,
    wireLength: f.wireLength,
    fileOffset: f.fileOffset,
    bytes: Buffer.from(f.data.subarray(f.dataOffset, f.dataOffset + f.capLength)),
  };
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(n: number, rand: () => number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/**
 * Chunk plans: a fixed size, or 'random' (1..97 bytes, seeded). Each chunk is copied into a fresh buffer so the
 * parser cannot rely on the input being one contiguous allocation.
 */
export type Chunking = number | 'random';

export function feed(parser: CaptureParser, input: Uint8Array, chunking: Chunking, seed = 1): FrameCopy[] {
  const out: FrameCopy[] = [];
  const sink = (f: RawFrame): void => {
    out.push(copyFrame(f));
  };
  const rand = rng(seed);
  for (let pos = 0; pos < input.length; ) {
    const n = chunking === 'random' ? 1 + Math.floor(rand() * 97) : chunking;
    const end = Math.min(input.length, pos + n);
    parser.push(Uint8Array.from(input.subarray(pos, end)), sink);
    pos = end;
  }
  parser.end();
  return out;
}

export const CHUNKINGS: Chunking[] = [1, 2, 3, 5, 7, 11, 16, 17, 23, 24, 25, 31, 64, 1000, 'random'];

/** An Ethernet-ish payload whose bytes encode its number, so mix-ups show. */
export function payload(i: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let k = 0; k < len; k++) b[k] = (i * 31 + k * 7) & 0xff;
  return b;
}
