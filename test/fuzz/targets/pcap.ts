/** Fuzz target: the classic pcap reader (any bytes, fed in two chunks); frames and errors checked. */
import { PcapParser } from '../../../src/capture/pcap.js';
import { checkErrorLine, checkFrame, cutOf, parseAll } from './common.js';

export function fuzz(data: Buffer): void {
  const p = new PcapParser('fuzz');
  let prev = 0;
  parseAll(p, data, cutOf(data), (f) => { checkFrame(f, prev); prev = f.index; });
  if (p.frames !== prev) throw new Error(`parser counts ${p.frames} frames, delivered ${prev}`);
  if (p.error !== null) checkErrorLine(p.error.oneLine());
}
