/**
 * Builders that put the client endpoint of a Connection straight into an RFC 9293 state by feeding it the real
 * segments that lead there (no report, no pcap), the way smoltcp's tests start from `socket_established()`.
 *
 *   const p = inState('FIN_WAIT_2');   // client sent FIN, server acknowledged it
 *   p.s('F.');                         // the server's FIN arrives
 *   assert.equal(p.client, 'TIME_WAIT');
 */
import type { EndpointState } from '../../src/model/report.js';
import { ACK, FIN, PSH, RST, SYN, URG, newTcpPacket } from '../../src/decode/packet.js';
import { Connection } from '../../src/tcp/connection.js';

export interface SegOpts { seq?: number; ack?: number; len?: number; dt?: number; win?: number; ttl?: number; md5?: boolean }

function flagBits(f: string): number {
  let b = 0;
  for (const ch of f) {
    if (ch === 'S') b |= SYN; else if (ch === 'F') b |= FIN; else if (ch === 'R') b |= RST;
    else if (ch === 'P') b |= PSH; else if (ch === 'U') b |= URG; else if (ch === '.') b |= ACK;
  }
  return b;
}

export class Pair {
  readonly conn = new Connection(1, true, false, 0, null);
  frame = 0;
  t = 1_700_000_000;
  /** Next sequence number each side sends. */
  nxt: [number, number] = [1000, 5000];
  private ipId: [number, number] = [100, 900];

  get client(): EndpointState { return this.conn.ep[0].state; }
  get server(): EndpointState { return this.conn.ep[1].state; }

  c(flags: string, o: SegOpts = {}): this { return this.seg(0, flags, o); }
  s(flags: string, o: SegOpts = {}): this { return this.seg(1, flags, o); }

  seg(d: 0 | 1, flags: string, o: SegOpts = {}): this {
    const p = newTcpPacket();
    const f = flagBits(flags);
    const len = o.len ?? 0;
    p.src[0] = d === 0 ? 0x0a000001 : 0x0a000002; p.dst[0] = d === 0 ? 0x0a000002 : 0x0a000001;
    p.srcPort = d === 0 ? 40000 : 80; p.dstPort = d === 0 ? 80 : 40000;
    p.seq = (o.seq ?? this.nxt[d]) >>> 0;
    p.ack = (f & ACK) !== 0 ? (o.ack ?? this.nxt[d ^ 1] as number) >>> 0 : 0;
    p.flags = f; p.payloadLen = len; p.window = o.win ?? 65535; p.ttl = o.ttl ?? 64;
    p.ipId = this.ipId[d]++;
    p.auth = o.md5 ? 19 : 0;
    if (o.seq === undefined && (f & RST) === 0) {
      this.nxt[d] = (p.seq + len + ((f & SYN) ? 1 : 0) + ((f & FIN) ? 1 : 0)) >>> 0;
    }
    this.t += o.dt ?? 0.001;
    this.conn.onSegment(p, d, ++this.frame, this.t);
    return this;
  }
}

export type BuildableState = 'SYN_SENT' | 'SYN_RECEIVED' | 'ESTABLISHED' | 'MIDSTREAM' | 'FIN_WAIT_1' | 'FIN_WAIT_2'
  | 'CLOSING' | 'TIME_WAIT' | 'CLOSE_WAIT' | 'LAST_ACK' | 'CLOSED';

/**
 * A pair whose client is in `state` (SYN_RECEIVED: the server is; the client is then in SYN_SENT). The segments used
 * are the ordinary ones of rules §5.1 (#1 four-way close, #3 simultaneous close).
 */
export function inState(state: BuildableState): Pair {
  const p = new Pair();
  if (state === 'MIDSTREAM') return p.c('.', { len: 10 }).s('.');
  if (state === 'SYN_SENT') return p.c('S');
  if (state === 'SYN_RECEIVED') return p.c('S').s('S.');
  p.c('S').s('S.').c('.');
  switch (state) {
    case 'ESTABLISHED': return p;
    case 'FIN_WAIT_1': return p.c('F.');
    case 'FIN_WAIT_2': return p.c('F.').s('.');
    case 'CLOSING': {
      // Crossing FINs: the server's FIN does not acknowledge the client's.
      const cAck = p.nxt[0];
      return p.c('F.').s('F.', { ack: cAck });
    }
    case 'TIME_WAIT': return p.c('F.').s('.').s('F.').c('.');
    case 'CLOSE_WAIT': return p.s('F.').c('.');
    case 'LAST_ACK': return p.s('F.').c('.').c('F.');
    case 'CLOSED': return p.s('F.').c('.').c('F.').s('.');
  }
}
