import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnalysisSession } from '../../src/analyze/session.js';
import { decodeFrame } from '../../src/decode/decode.js';
import { LINKTYPE, newTcpPacket } from '../../src/decode/packet.js';
import { endMarkerFrame } from '../../src/extract/marker.js';
import { frameOf } from '../helpers/packets.js';
import { inetChecksum } from '../check/util.js';

describe('end-of-capture marker', () => {
  it('is IP but not TCP on every link type the decoder reads, and sets the capture end', () => {
    for (const lt of Object.values(LINKTYPE)) {
      const bytes = endMarkerFrame(lt);
      assert.ok(bytes !== null, `link type ${lt}`);
      assert.equal(decodeFrame(frameOf(bytes, lt), newTcpPacket()), 'not-tcp', `link type ${lt}`);
      const s = new AnalysisSession();
      s.ingest(frameOf(bytes, lt, { tsSec: 1_800_000_123, tsNsec: 456_000_000 }));
      assert.equal(s.counters.connections, 0);
      assert.equal(s.counters.lastTime, 1_800_000_123.456);
    }
    const ip = endMarkerFrame(LINKTYPE.RAW)!;
    assert.equal(inetChecksum(ip.subarray(0, 20)), 0, 'a valid IPv4 header checksum');
    assert.equal(ip[9], 253, 'RFC 3692 experimental protocol');
  });

  it('is not made for link types the decoder does not read', () => {
    assert.equal(endMarkerFrame(127), null);
  });
});
