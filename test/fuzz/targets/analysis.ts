/**
 * Fuzz target: the whole analysis — reader, decoders, flow table (with a small bound from the last byte, so
 * eviction runs), detectors, report, JSON/text/NDJSON output — with every report invariant checked.
 */
import { analyzeBytes, boundFrom, cutOf } from './common.js';

export function fuzz(data: Buffer): void {
  analyzeBytes(data, { cut: cutOf(data), maxConnections: boundFrom(data[data.length - 1]) });
}
