import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { flagsString, formatAddress, formatEndpoint, parseAddress, parseEndpoint } from '../../src/decode/format.js';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG } from '../../src/decode/packet.js';

function v6(...groups: number[]): Uint32Array {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((groups[2 * i] ?? 0) << 16) | (groups[2 * i + 1] ?? 0);
  return w;
}

describe('formatAddress', () => {
  it('IPv4 dotted quad from word 0', () => {
    assert.equal(formatAddress(4, Uint32Array.of(0xc0a80101, 0, 0, 0)), '192.168.1.1');
    assert.equal(formatAddress(4, Uint32Array.of(0xffffffff)), '255.255.255.255');
    assert.equal(formatAddress(4, Uint32Array.of(0)), '0.0.0.0');
  });

  it('IPv6 per RFC 5952', () => {
    const cases: [Uint32Array, string][] = [
      [v6(0, 0, 0, 0, 0, 0, 0, 0), '::'],
      [v6(0, 0, 0, 0, 0, 0, 0, 1), '::1'],
      [v6(1, 0, 0, 0, 0, 0, 0, 0), '1::'],
      [v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), '2001:db8::1'],
      // §4.1 no leading zeros, §4.3 lower case
      [v6(0x2001, 0x0db8, 0x00aa, 0x000a, 0xabcd, 0xef01, 0x0001, 0x0010), '2001:db8:aa:a:abcd:ef01:1:10'],
      // §4.2.2 a single 0 group is not compressed
      [v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), '2001:db8:0:1:1:1:1:1'],
      // §4.2.3 the longest run is compressed; the first on a tie
      [v6(0x2001, 0, 0, 1, 0, 0, 0, 1), '2001:0:0:1::1'],
      [v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), '2001:db8::1:0:0:1'],
      [v6(0xfe80, 0, 0, 0, 1, 2, 3, 4), 'fe80::1:2:3:4'],
      [v6(1, 2, 3, 4, 5, 6, 7, 8), '1:2:3:4:5:6:7:8'],
      [v6(0, 1, 0, 1, 0, 1, 0, 1), '0:1:0:1:0:1:0:1'],
      [v6(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:0'],
      // §5 IPv4-mapped addresses in mixed notation
      [v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201), '::ffff:192.0.2.1'],
    ];
    for (const [words, text] of cases) assert.equal(formatAddress(6, words), text);
  });
});

describe('formatEndpoint', () => {
  it('brackets IPv6 only', () => {
    assert.equal(formatEndpoint(4, Uint32Array.of(0x0a000001, 0, 0, 0), 80), '10.0.0.1:80');
    assert.equal(formatEndpoint(6, v6(0, 0, 0, 0, 0, 0, 0, 1), 80), '[::1]:80');
  });
});

describe('flagsString', () => {
  it("Wireshark's order, low bit first", () => {
    assert.equal(flagsString(SYN), 'SYN');
    assert.equal(flagsString(SYN | ACK), 'SYN,ACK');
    assert.equal(flagsString(FIN | ACK), 'FIN,ACK');
    assert.equal(flagsString(RST | ACK), 'RST,ACK');
    assert.equal(flagsString(FIN | PSH | ACK), 'FIN,PSH,ACK');
    assert.equal(flagsString(SYN | ECE | CWR), 'SYN,ECE,CWR');
    assert.equal(flagsString(0xff), 'FIN,SYN,RST,PSH,ACK,URG,ECE,CWR');
    assert.equal(flagsString(URG | ACK), 'ACK,URG');
    assert.equal(flagsString(0), '<None>');
  });
});

describe('parseAddress / parseEndpoint', () => {
  it('round-trips formatEndpoint', () => {
    for (const text of ['10.0.0.1:80', '[::1]:443', '[2001:db8::1:0:0:1]:65535', '[::ffff:192.0.2.1]:0', '0.0.0.0:1']) {
      const e = parseEndpoint(text);
      assert.ok(e, text);
      assert.equal(formatEndpoint(e.ipVersion, e.words, e.port), text);
    }
  });

  it('fills words like TcpPacket', () => {
    assert.deepEqual(parseEndpoint('192.168.1.1:8080'), { ipVersion: 4, words: Uint32Array.of(0xc0a80101, 0, 0, 0), port: 8080 });
    const e = parseEndpoint('[FE80::1:2:3:4]:22');
    assert.deepEqual(e, { ipVersion: 6, words: Uint32Array.of(0xfe800000, 0, 0x00010002, 0x00030004), port: 22 });
  });

  it('the port is optional; a bare IPv6 address is never split', () => {
    assert.equal(parseEndpoint('10.0.0.1')?.port, -1);
    assert.equal(parseEndpoint('[::1]')?.port, -1);
    const bare = parseEndpoint('fe80::1:80');
    assert.equal(bare?.port, -1);
    assert.equal(bare && formatAddress(6, bare.words), 'fe80::1:80');
  });

  it('accepts uncompressed, fully written and embedded-IPv4 IPv6 forms', () => {
    const full = parseAddress('2001:0db8:0000:0000:0000:0000:0000:0001');
    assert.equal(full && formatAddress(6, full.words), '2001:db8::1');
    const mapped = parseAddress('::FFFF:10.1.2.3');
    assert.deepEqual(mapped?.words, Uint32Array.of(0, 0, 0xffff, 0x0a010203));
    assert.equal(parseAddress('1:2:3:4:5:6:7::')?.words[3], 0x00070000);
  });

  it('rejects what is not an endpoint', () => {
    for (const bad of ['', '10.0.0', '10.0.0.256:1', '10.0.0.1:65536', '10.0.0.1:', '10.0.0.1:x', '1.2.3.4.5', '[10.0.0.1]:80',
      '[::1', '[::1]80', '1::2::3', '12345::1', '1:2:3:4:5:6:7:8:9', '::1%eth0', 'g::1', 'example.com:80']) {
      assert.equal(parseEndpoint(bad), null, bad);
    }
  });
});
