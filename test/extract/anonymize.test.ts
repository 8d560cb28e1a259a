import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ConnectionReport } from '../../src/model/report.js';
import { decodeFrame } from '../../src/decode/decode.js';
import { formatAddress } from '../../src/decode/format.js';
import { newTcpPacket } from '../../src/decode/packet.js';
import { Anonymizer, TS_BASE } from '../../src/extract/anonymize.js';
import { extractCapture } from '../../src/extract/extract.js';
import { compareVerdicts } from '../../src/extract/verify.js';
import { buildFrame } from '../helpers/packets.js';
import { checksumsValid, fixture, readFrames, report, tcpLayout, tmp, type Frame } from '../check/util.js';
import type { Endpoint } from '../../src/model/endpoint.js';

function decoded(f: Frame) {
  const pkt = newTcpPacket();
  const st = decodeFrame({ ...f, data: f.bytes, dataOffset: 0, capLength: f.bytes.length, fileOffset: 0 }, pkt);
  return { st, pkt };
}

async function anonymized(name: string, keepPayload = false, rebaseTimestamps = false) {
  const dir = await tmp('teardown-anon-');
  const out = join(dir, 'anon.pcap');
  const r = await extractCapture(fixture(name), { connections: ['c1'], allIncarnations: true, output: out, anonymize: true, keepPayload, rebaseTimestamps });
  return { r, out, frames: await readFrames(out), original: await readFrames(fixture(name)), again: await report(out) };
}

describe('extract --anonymize on real captures', () => {
  it('remaps addresses and ports, zeroes payloads, fixes checksums, and keeps every verdict (IPv4, TIME_WAIT reuse with data)', async () => {
    const { r, frames, original, again } = await anonymized('tw-reuse-lower-isn.pcap');
    assert.deepEqual(compareVerdicts(r.source, r.selection.connections, again, r.anonymizer), []);
    assert.notDeepEqual(again.connections.map((c) => c.client), r.source.connections.map((c) => c.client), 'addresses differ');
    assert.ok(again.connections.every((c) => c.client.address.startsWith('10.0.0.') && c.server.address.startsWith('10.0.0.')), "again.connections.every((c) => c.client.startsWith('10.0.0.'");
    // Same findings, same details that are not addresses.
    assert.deepEqual(again.findings.map((f) => [f.kind, f.severity, f.details.isn, f.details.outcome]),
      r.source.findings.map((f) => [f.kind, f.severity, f.details.isn, f.details.outcome]));
    let payload = 0;
    const tcp = frames.filter((f) => decoded(f).st === 'ok');
    assert.equal(tcp.length, original.length);
    for (const [i, f] of tcp.entries()) {
      const { pkt } = decoded(f);
      const o = decoded(original[i]!).pkt;
      assert.equal(formatAddress(4, pkt.src), '10.0.0.1');
      assert.ok(!f.bytes.includes(Buffer.from([127, 0, 0, 1])), `frame ${f.index} still holds 127.0.0.1`);
      assert.equal(pkt.seq, o.seq);
      assert.equal(pkt.ack, o.ack);
      assert.equal(pkt.flags, o.flags);
      assert.equal(pkt.payloadLen, o.payloadLen);
      assert.notEqual(pkt.srcPort, o.srcPort);
      assert.ok(f.bytes.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.capturedPayloadLen).every((x) => x === 0), 'payload zeroed');
      payload += pkt.capturedPayloadLen;
      assert.ok(checksumsValid(f.bytes, f.linkType), `frame ${f.index}: checksums`);
      assert.equal([f.tsSec, f.tsNsec].join(), [original[i]!.tsSec, original[i]!.tsNsec].join());
    }
    assert.ok(payload > 0, 'the capture carries data');
  });

  it('keeps TCP timestamps as captured by default; rebaseTimestamps moves each host\'s clock to TS_BASE, keeping every verdict', async () => {
    for (const name of ['tw-reuse-lower-isn-ts.pcap', 'tw-reuse-higher-isn-ts.pcap']) {
      const kept = await anonymized(name);
      const original = kept.original.map((f) => decoded(f).pkt).map((p) => [p.tsVal, p.tsEcr]);
      assert.deepEqual(kept.frames.map((f) => decoded(f).pkt).map((p) => [p.tsVal, p.tsEcr]), original, `${name}: kept by default`);

      const { r, frames, again } = await anonymized(name, false, true);
      assert.deepEqual(compareVerdicts(r.source, r.selection.connections, again, r.anonymizer), []);
      assert.deepEqual(again.findings.map((f) => [f.kind, f.details.timestamps, f.details.isn, f.details.outcome]),
        r.source.findings.map((f) => [f.kind, f.details.timestamps, f.details.isn, f.details.outcome]), `${name}: the timestamp verdict stays`);
      // One shift per host (its original address; here both ends are 127.0.0.1), as TSval or echoed as TSecr.
      const shift = new Map<string, number>();
      const same = (host: string, from: number, to: number) => {
        const d = (to - from) >>> 0;
        const had = shift.get(host);
        if (had === undefined) shift.set(host, d);
        else assert.equal(d, had, `${name}: ${host} moves by one amount`);
      };
      for (const [i, f] of frames.entries()) {
        const p = decoded(f).pkt;
        const o = decoded(kept.original[i]!).pkt;
        assert.ok(o.hasTs && p.hasTs, `${name}: frame ${i + 1} carries timestamps`);
        if (i === 0) assert.equal(p.tsVal, TS_BASE, 'the first value starts the clock at TS_BASE');
        assert.notEqual(p.tsVal, o.tsVal, `${name}: frame ${i + 1} TSval rewritten`);
        same(formatAddress(o.ipVersion, o.src), o.tsVal, p.tsVal);
        if (o.tsEcr === 0) assert.equal(p.tsEcr, 0, 'a TSecr of 0 stays 0');
        else same(formatAddress(o.ipVersion, o.dst), o.tsEcr, p.tsEcr);
        assert.ok(checksumsValid(f.bytes, f.linkType), `${name}: frame ${i + 1} checksums`);
      }
    }
  });

  it('keeps payload bytes with keepPayload', async () => {
    const { frames, original } = await anonymized('half-close-then-data.pcap', true);
    let seen = 0;
    for (const [i, f] of frames.entries()) {
      const { pkt } = decoded(f);
      const o = original[i]!;
      const op = decoded(o).pkt;
      const a = f.bytes.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.capturedPayloadLen);
      assert.deepEqual(a, o.bytes.subarray(op.payloadOffset, op.payloadOffset + op.capturedPayloadLen));
      seen += a.length;
      assert.ok(checksumsValid(f.bytes, f.linkType, 'skip'), `frame ${f.index}: checksums`);
    }
    assert.ok(seen > 0, 'the capture carries data');
  });

  it('IPv6: addresses become 2001:db8::n, checksums verify, verdicts unchanged', async () => {
    const { r, frames, again } = await anonymized('ipv6-tw-reuse-higher-isn.pcap');
    assert.deepEqual(compareVerdicts(r.source, r.selection.connections, again, r.anonymizer), []);
    assert.ok(again.connections.every((c) => c.client.address.startsWith('2001:db8::')), "again.connections.every((c) => c.client.startsWith('[2001:db");
    assert.ok(again.findings.some((f) => f.kind === 'time-wait-reuse'), "again.findings.some((f) => f.kind === 'time-wait-reuse')");
    for (const f of frames.filter((x) => decoded(x).st === 'ok')) assert.ok(checksumsValid(f.bytes, f.linkType), `frame ${f.index}`);
  });

  it('Linux cooked (SLL2) captures: checksums verify, verdicts unchanged', async () => {
    const { r, frames, again } = await anonymized('fin-client-first-any.pcap');
    assert.equal(frames[0]!.linkType, 276);
    assert.deepEqual(compareVerdicts(r.source, r.selection.connections, again, r.anonymizer), []);
    for (const f of frames) assert.ok(checksumsValid(f.bytes, f.linkType), `frame ${f.index}`);
  });
});

const ep = (address: string, port: number): Endpoint => ({ ipVersion: address.includes(':') ? 6 : 4, address, port });
const conn = (client: Endpoint, server: Endpoint) => ({ client, server }) as ConnectionReport;

describe('Anonymizer', () => {
  it('maps ports one to one, keeping their order inside 1-1023, 1024-32767 and 32768-65535', () => {
    const a = new Anonymizer([conn(ep('10.1.1.1', 50000), ep('10.2.2.2', 443)), conn(ep('10.1.1.1', 40000), ep('10.2.2.2', 80)), conn(ep('10.1.1.3', 2000), ep('10.2.2.2', 8080))]);
    const m = a.portMap;
    const cls = (p: number) => (p < 1024 ? 0 : p < 32768 ? 1 : 2);
    const ports = [80, 443, 2000, 8080, 40000, 50000];
    for (const p of ports) assert.equal(cls(m.get(p)!), cls(p), `port ${p} keeps its range`);
    const mapped = ports.map((p) => m.get(p)!);
    assert.deepEqual([...mapped].sort((x, y) => x - y), mapped, 'order kept');
    assert.equal(new Set(mapped).size, ports.length, 'one to one');
    assert.ok(ports.every((p) => m.get(p) !== p), "ports.every((p) => m.get(p) !== p)");
    assert.deepEqual([...a.addressMap], [['10.1.1.1', '10.0.0.1'], ['10.2.2.2', '10.0.0.2'], ['10.1.1.3', '10.0.0.3']]);
    assert.deepEqual(a.mapEndpoint(ep('10.2.2.2', 443)), ep('10.0.0.2', m.get(443)!));
  });

  it('rewrites MAC addresses consistently and locally administered', () => {
    const a = new Anonymizer([conn(ep('10.0.0.5', 40000), ep('10.0.0.6', 80))]);
    const f1 = buildFrame({ src: '10.0.0.5', dst: '10.0.0.6', sport: 40000, dport: 80, seq: 1, ack: 1, flags: '.', len: 0 });
    const f2 = buildFrame({ src: '10.0.0.6', dst: '10.0.0.5', sport: 80, dport: 40000, seq: 1, ack: 1, flags: '.', len: 0 });
    const srcMac1 = Buffer.from(f1.subarray(6, 12));
    assert.ok(a.rewrite(f1, 1) && a.rewrite(f2, 1), 'rewritten');
    assert.notDeepEqual(Buffer.from(f1.subarray(6, 12)), srcMac1);
    assert.equal(f1[0]! & 0x02, 0x02);
    // The frame builder gives every frame the same two MACs: the same MAC maps to the same MAC, two to two.
    assert.deepEqual(Buffer.from(f1.subarray(6, 12)), Buffer.from(f2.subarray(6, 12)), 'the same MAC maps to the same MAC');
    assert.notDeepEqual(Buffer.from(f1.subarray(0, 6)), Buffer.from(f1.subarray(6, 12)), 'different MACs stay different');
    assert.ok(checksumsValid(Buffer.from(f1), 1), 'checksums');
    assert.equal(a.rewrite(Uint8Array.from([1, 2, 3]), 1), false, 'not TCP: left alone');
  });

  it('rewrites the IPoIB hardware address (QPN and GID) as it does a MAC', async () => {
    const frames = await readFrames(join(import.meta.dirname, '../decode/captures/ipoib.pcap'));
    const f = frames[9]!; // frame 10: 34170 -> 22, ACK
    const a = new Anonymizer([conn(ep('192.168.56.10', 34170), ep('192.168.56.24', 22))]);
    const b = Uint8Array.from(f.bytes);
    const gid = Buffer.from(b.subarray(24, 40));
    assert.ok(a.rewrite(b, f.linkType), 'rewritten');
    assert.equal(Buffer.from(b).indexOf(gid), -1, 'the GID is gone');
    assert.deepEqual([...b.subarray(40, 44)], [0x08, 0x00, 0, 0], 'the type is kept');
    assert.equal(decodeFrame({ ...f, data: b, dataOffset: 0, capLength: b.length, fileOffset: 0 }, newTcpPacket()), 'ok');
    assert.ok(checksumsValid(Buffer.from(b), f.linkType), 'checksums');
  });

  it('rebaseTimestamps: TSval moves by the sender\'s shift, TSecr by the peer\'s (two hosts, two clocks); checksums right, also cut', () => {
    const A = '192.0.2.1';
    const B = '198.51.100.7';
    const seg = (src: string, dst: string, flags: string, ts: [number, number], payload?: Uint8Array) => buildFrame({
      src, dst, sport: src === A ? 51000 : 443, dport: src === A ? 443 : 51000, seq: 1000, ack: flags.includes('.') ? 2000 : 0, flags,
      options: { mss: 1460, sackPermitted: true, ts }, ...(payload ? { payload } : {}),
    });
    const a = new Anonymizer([conn(ep(A, 51000), ep(B, 443))], { rebaseTimestamps: true, keepPayload: true });
    const frames = [
      seg(A, B, 'S', [4_000_000_000, 0]),
      seg(B, A, 'S.', [77, 4_000_000_000]),
      seg(A, B, '.', [4_000_000_010, 77]),
      seg(B, A, 'P.', [80, 4_000_000_010], Uint8Array.from({ length: 100 }, (_, i) => i)),
    ];
    for (const f of frames) assert.ok(a.rewrite(f, 1), 'rewritten');
    const ts = frames.map((f) => { const p = decoded({ bytes: f, linkType: 1 } as Frame).pkt; return [p.tsVal, p.tsEcr]; });
    const base = TS_BASE;
    assert.deepEqual(ts, [[base, 0], [base, base], [(base + 10) >>> 0, base], [base + 3, (base + 10) >>> 0]]);
    for (const f of frames) assert.ok(checksumsValid(Buffer.from(f), 1), 'checksums');
    // A segment cut by a snaplen with its payload kept: the checksum is updated incrementally, the timestamps too;
    // here the option sits at an odd offset (window scale, then timestamps without NOPs).
    const oddTs = Uint8Array.from([3, 3, 7, 8, 10, 0, 0, 0, 90, 0xee, 0x6b, 0x28, 0x14]); // TSval 90, TSecr 4000000020
    const payload = Uint8Array.from({ length: 301 }, (_, i) => (i * 7 + 3) & 0xff);
    const whole = buildFrame({ src: B, dst: A, sport: 443, dport: 51000, seq: 1000, ack: 2000, flags: 'P.', payload }, { type: 'ethernet' }, { tcpOptions: oddTs });
    const cut = Uint8Array.from(whole.subarray(0, whole.length - 200));
    const fresh = () => {
      const x = new Anonymizer([conn(ep(A, 51000), ep(B, 443))], { rebaseTimestamps: true, keepPayload: true });
      x.rewrite(seg(A, B, 'S', [4_000_000_000, 0]), 1);
      x.rewrite(seg(B, A, 'S.', [77, 4_000_000_000]), 1);
      return x;
    };
    assert.ok(fresh().rewrite(whole, 1) && fresh().rewrite(cut, 1), 'rewritten');
    const p = decoded({ bytes: whole, linkType: 1 } as Frame).pkt;
    assert.deepEqual([p.tsVal, p.tsEcr], [base + 13, base + 20]);
    const { tcp } = tcpLayout(Buffer.from(whole), 1);
    assert.ok(checksumsValid(Buffer.from(whole), 1), 'the whole segment verifies');
    assert.equal(Buffer.from(cut).readUInt16BE(tcp + 16), Buffer.from(whole).readUInt16BE(tcp + 16), 'the cut segment gets the same checksum');
  });

  it('updates the TCP checksum incrementally when the segment was cut by a snaplen (RFC 1624)', () => {
    const payload = Uint8Array.from({ length: 301 }, (_, i) => (i * 7 + 3) & 0xff);
    for (const [src, dst] of [['192.0.2.1', '198.51.100.7'], ['2001:db8:1::1', 'fe80::99']] as const) {
      const whole = buildFrame({ src, dst, sport: 51000, dport: 443, seq: 1000, ack: 2000, flags: 'P.', payload });
      assert.ok(checksumsValid(Buffer.from(whole), 1), 'the built frame is right');
      const cut = Uint8Array.from(whole.subarray(0, whole.length - 200)); // snaplen: the last 200 payload bytes missing
      const conns = [conn(ep(src, 51000), ep(dst, 443))];
      // keepPayload: the cut bytes are unknown, so only an incremental update can be right.
      assert.ok(new Anonymizer(conns, { keepPayload: true }).rewrite(whole, 1), 'rewritten');
      assert.ok(new Anonymizer(conns, { keepPayload: true }).rewrite(cut, 1), 'rewritten');
      const { tcp } = tcpLayout(Buffer.from(whole), 1);
      assert.equal(Buffer.from(cut).readUInt16BE(tcp + 16), Buffer.from(whole).readUInt16BE(tcp + 16), `${src}: same checksum as the full recompute`);
      assert.ok(checksumsValid(Buffer.from(whole), 1), 'checksums');
      // Zeroed payload: the cut segment's checksum is recomputed as if the missing bytes were the zeros they became.
      const zeroCut = Uint8Array.from(buildFrame({ src, dst, sport: 51000, dport: 443, seq: 1000, ack: 2000, flags: 'P.', payload }).subarray(0, 80));
      assert.ok(new Anonymizer(conns).rewrite(zeroCut, 1), 'rewritten');
      assert.ok(checksumsValid(Buffer.from(zeroCut), 1, 'zeros'), `${src}: zeroed and cut`);
    }
  });
});
