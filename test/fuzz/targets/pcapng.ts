/** Fuzz target: the pcapng reader (any bytes, fed in two chunks); frames, drops and errors checked. */
import { PcapngParser } from '../../../src/capture/pcapng.js';
import { checkErrorLine, checkFrame, cutOf, parseAll } from './common.js';

export function fuzz(data: Buffer): void {
  const p = new PcapngParser('fuzz');
  let prev = 0;
  parseAll(p, data, cutOf(data), (f) => { checkFrame(f, prev); prev = f.index; });
  if (p.frames !== prev) throw new Error(`parser counts ${p.frames} frames, delivered ${prev}`);
  if (p.drops !== null && !(Number.isInteger(p.drops) && p.drops >= 0)) throw new Error(`drops ${p.drops}`);
  if (p.error !== null) checkErrorLine(p.error.oneLine());
}
