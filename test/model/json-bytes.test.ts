/**
 * The JSON byte writers of src/model/json-bytes.ts give JSON.stringify's bytes: on every connection and finding of every
 * fixture, and on values built to reach every escape and every optional field.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { aggregateJson, connectionJson } from '../../src/model/json.js';
import { JsonBytes, LadderSpans, putUint, writeConnectionJson, writeFindingJson, writePacketRef, writePairAggregate, writeServerAggregate } from '../../src/model/json-bytes.js';
import type { ConnectionReport, Finding, PacketRef } from '../../src/model/report.js';
import { spoolRecord } from '../../src/analyze/spool.js';
import { fixtureCaptures } from '../helpers/fixture-captures.js';

/** What a writer writes, as text (the buffer starts small, so long values make it grow). */
function bytes(write: (w: JsonBytes) => void): string {
  const w = new JsonBytes(16);
  write(w);
  return Buffer.from(w.buf.subarray(0, w.n)).toString('utf8');
}
const connectionJsonText = (c: ConnectionReport, elide = false) => bytes((w) => writeConnectionJson(w, c, elide));
const findingJsonText = (f: Finding) => bytes((w) => writeFindingJson(w, f));
const packetRefText = (p: PacketRef) => bytes((w) => writePacketRef(w, p));
const jsonString = (s: string) => bytes((w) => w.str(s));
const jsonNumber = (x: number) => bytes((w) => w.num(x));

const elided = (c: ConnectionReport) => JSON.stringify({ ...connectionJson(c), ladder: [], elided: c.elided + c.ladder.length });

/** A packet, a connection and a finding that reach every escape and every optional field. */
const sp: PacketRef = {
  frame: 1, time: 1.5e-7, offset: -0, dir: 'c2s', flags: 'FIN,ACK', seq: 4294967295, ack: null, relSeq: 0, relAck: null, len: 0, win: 65535,
  states: { client: 'FIN_WAIT_1', server: 'ESTABLISHED' }, note: 'FIN "quoted"\n',
};
const { note: _, ...noNote } = sp;
const sc: ConnectionReport = {
  id: '\u00011.2\u0002', client: { ipVersion: 6, address: 'fe80::1', port: 1 }, server: { ipVersion: 6, address: '::', port: 443 },
  clientGuessed: true, ipVersion: 6, incarnation: 2, previous: 'c1', next: null, firstFrame: 3, lastFrame: 9, start: 1e21, end: NaN, packets: 7,
  bytes: { c2s: 0.1, s2c: Infinity }, retransmissions: { c2s: 0, s2c: 1 }, keepalives: { c2s: 2, s2c: 3 }, duplicates: 0, handshake: 'midstream',
  retries: { syn: 0, synAck: 1 }, teardown: 'half-close', closer: null, ending: 'half-closed', states: { client: 'CLOSE_WAIT', server: 'FIN_WAIT_2' },
  findings: ['stuck-half-close', 'rst-ignored'], times: { halfClosed: 1.25, closed: null, timeWaitUntil: null, reset: -1 },
  revisions: [{ frame: 4, revisedBy: 5, what: 'fin-not-sent', why: 'a "why"\twith tab' }],
  inferences: [{ frame: 6, what: 'fin-not-captured', side: 'server', why: 'ACK +1' }],
  capture: 'one-sided', missingSide: 'server', capturePoint: 'middle', filter: 'ipv6.addr==fe80::1 && tcp.port==1', ladder: [sp, noNote], elided: 5,
  encapsulation: { c2s: [{ type: 'vlan', id: 10 }], s2c: null, text: 'vlan 10', changed: { c2s: 0, s2c: 1 } }, captureLoss: 12,
};
const sf: Finding = {
  kind: 'rst-ignored', severity: 'warn', connection: sc.id, summary: 'RST "out of window"', why: 'seq ∉ window\u0000', rule: 'RFC 5961 §3',
  time: 1735689600.000001, evidence: [sp, noNote], details: { a: 1, b: [null, 'x'], c: { d: undefined, e: NaN } },
};

describe('JSON byte writers', () => {
  test('every connection and finding of every fixture: the bytes of JSON.stringify', async () => {
    const files = fixtureCaptures();
    assert.ok(files.length > 50);
    const seen = { inferences: 0, encapsulation: 0, revisions: 0, notes: 0, rated: 0 };
    for (const f of files) {
      const { report } = await analyzeFile(f, { ladders: 'all' });
      for (const c of report.connections) {
        assert.equal(connectionJsonText(c), JSON.stringify(connectionJson(c)), `${f} ${c.id}`);
        assert.equal(connectionJsonText(c, true), elided(c), `${f} ${c.id} elided`);
        if (c.inferences) seen.inferences++;
        if (c.encapsulation) seen.encapsulation++;
        if (c.revisions.length > 0) seen.revisions++;
        if (c.ladder.some((p) => p.note !== undefined)) seen.notes++;
      }
      for (const x of report.findings) if (x.connection !== '') assert.equal(findingJsonText(x), JSON.stringify(x), `${f} ${x.kind}`);
      for (const a of report.aggregates.servers) assert.equal(bytes((w) => writeServerAggregate(w, a)), JSON.stringify(aggregateJson(a)), `${f} server row`);
      for (const a of report.aggregates.pairs) {
        assert.equal(bytes((w) => writePairAggregate(w, a)), JSON.stringify(aggregateJson(a)), `${f} pair row`);
        if (a.exhaustionRatio !== null) seen.rated++;
      }
    }
    // The fixtures reach the optional fields.
    for (const [k, n] of Object.entries(seen)) assert.ok(n > 0, k);
  });

  test('escapes, non-finite numbers, nulls and the optional fields as JSON.stringify writes them', () => {
    for (const s of ['', 'plain', 'a"b', 'back\\slash', 'tab\there', '\u0001w.3\u0002', '\u007f', '\u2028', 'é', '😀', '\ud83d', 'x\udc00y']) {
      assert.equal(jsonString(s), JSON.stringify(s), JSON.stringify(s));
      // The same inside longer texts (a long one goes to the native encoder when nothing in it needs escaping),
      // at both sides of the length where that starts.
      for (const pad of [0, 1, 10, 11, 12, 13, 30, 200]) {
        for (const t of [`${'p'.repeat(pad)}${s}`, `${s}${'q'.repeat(pad)}`, `${'a'.repeat(pad >> 1)}${s}${'b'.repeat(pad - (pad >> 1))}${s}`]) {
          assert.equal(jsonString(t), JSON.stringify(t), JSON.stringify(t));
        }
      }
    }
    for (const x of [0, -0, 1, 9, 10, 99, 100, 12345, 2 ** 31, 2 ** 32 - 1, 999999999999999, 1e15, 2 ** 53, 1e21, 1e-7, -1, -12.5, 0.1 + 0.2, 1735689600.405565, NaN, Infinity, -Infinity]) {
      assert.equal(jsonNumber(x), JSON.stringify(x), String(x));
    }
    // Whole counts of millionths (timestamps, durations) and their neighbours, as JavaScript prints them.
    let seed = 7;
    const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
    for (let i = 0; i < 20000; i++) {
      const sec = [0, 1, 59, 1735689600, 4294967295, 4294967296, 2 ** 33][i % 7] as number;
      const micro = Math.floor(rand() * 1e6);
      const t = sec + micro * 1e-6;
      for (const x of [t, -t, t + 1e-9, micro / 1e6, sec + Math.floor(rand() * 1e9) * 1e-9, t - Math.floor(t), rand() * 1e-5]) {
        assert.equal(jsonNumber(x), JSON.stringify(x), String(x));
      }
    }
    assert.equal(packetRefText(sp), JSON.stringify(sp));
    assert.equal(packetRefText(noNote), JSON.stringify(noNote));
    assert.equal(connectionJsonText(sc), JSON.stringify(connectionJson(sc)));
    assert.equal(connectionJsonText(sc, true), elided(sc));
    const { inferences: _i, encapsulation: _e, captureLoss: _l, ...bare } = sc;
    assert.equal(connectionJsonText(bare), JSON.stringify(connectionJson(bare)));
    assert.equal(findingJsonText(sf), JSON.stringify(sf));
    assert.equal(findingJsonText({ ...sf, evidence: [] }), JSON.stringify({ ...sf, evidence: [] }));
  });

  /** x with every number in it replaced by the longest a number prints. */
  const widest = <T>(x: T): T => JSON.parse(JSON.stringify(x), (_k, v: unknown) => (typeof v === 'number' ? tight : v)) as T;
  /** 25 characters, the longest a number prints. */
  const tight = -1.3014752091348996e-6;

  test('every starting size of the buffer: the room is checked before each write (no byte lost at the end of a buffer)', () => {
    const texts: [string, (w: JsonBytes) => void][] = [
      [JSON.stringify(tight), (w) => w.num(tight)],
      [JSON.stringify(sp), (w) => writePacketRef(w, sp)],
      [JSON.stringify(connectionJson(sc)), (w) => writeConnectionJson(w, sc)],
      [elided(sc), (w) => writeConnectionJson(w, sc, true)],
      [JSON.stringify(sf), (w) => writeFindingJson(w, sf)],
      // Every number as long as a number prints: the most each room check has to cover.
      [JSON.stringify(widest(sp)), (w) => writePacketRef(w, widest(sp))],
      [JSON.stringify(connectionJson(widest(sc))), (w) => writeConnectionJson(w, widest(sc))],
      [JSON.stringify(widest(sf)), (w) => writeFindingJson(w, widest(sf))],
    ];
    for (const [want, write] of texts) {
      for (let size = 1; size <= Buffer.byteLength(want) + 1; size++) {
        const w = new JsonBytes(size);
        write(w);
        assert.equal(Buffer.from(w.buf.subarray(0, w.n)).toString('utf8'), want, `from ${size} bytes`);
      }
    }
  });

  test('numbers on every path: small and large whole numbers, negative, micro-second fractions, and the general conversion again and again', () => {
    const whole = [2 ** 31 - 1, 2 ** 31, 2 ** 31 + 5, 2 ** 32 + 1, 21 * 1e8 + 7, 1e8 * 12345, 100000000000005, 999999999999999, 1e15 - 1e8, 1e15 + 1, 1e20 + 1e5];
    for (const x of [...whole, ...whole.map((y) => -y), -1, -9, -10, -2147483648, -2147483649, 2 ** 53 - 1]) assert.equal(jsonNumber(x), JSON.stringify(x), String(x));
    // Differences of capture timestamps (exact multiples of 2^-22 near 1.7e9 s), each written several times and
    // many sharing a slot of the remembered conversions: always their own text.
    const xs: number[] = [];
    for (let k = 1; k < 20000; k += 3) xs.push((1735689600 + k * 2 ** -22) - 1735689600, -k * 2 ** -30, k * 1e-7, k / 3);
    const w = new JsonBytes(16);
    for (let round = 0; round < 3; round++) {
      for (const x of round === 1 ? [...xs].reverse() : xs) {
        w.n = 0;
        w.num(x);
        assert.equal(Buffer.from(w.buf.subarray(0, w.n)).toString('latin1'), JSON.stringify(x), String(x));
      }
    }
  });
});

test('putUint writes the digits of whole numbers up to 1e15, at both sides of 2^31 and of each power of ten', () => {
  const values = [0, 1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 7, 1e8, 1e8 + 1, 4294967295, 1e15 - 1];
  for (let p = 1; p < 15; p++) values.push(10 ** p - 1, 10 ** p, 10 ** p + 3);
  const b = new Uint8Array(40);
  for (const x of values) {
    b.fill(0x78);
    const end = putUint(b, 3, x);
    assert.equal(Buffer.from(b.subarray(3, end)).toString('latin1'), String(x));
    assert.equal(b[end], 0x78, `nothing written after ${x}`);
  }
});

test('an evidence packet equal to one of the ladder packets is copied from the ladder bytes; any other is written', () => {
  const p = (frame: number, note?: string): PacketRef => ({
    frame, time: 1735689600 + frame / 7, offset: frame === 1 ? 0 : frame / 7, dir: frame % 2 === 0 ? 's2c' : 'c2s', flags: 'ACK', seq: 100 + frame,
    ack: frame === 1 ? null : 7, relSeq: frame, relAck: frame === 1 ? null : 1, len: 0, win: 512, states: { client: 'ESTABLISHED', server: 'ESTABLISHED' },
    ...(note === undefined ? {} : { note }),
  });
  const ladder = [p(1), p(2, 'FIN'), p(3), p(4, 'é "q"')];
  const c: ConnectionReport = { ...sc, id: 'c7', findings: ['rst-ignored'], ladder, elided: 0 };
  const variants: PacketRef[] = [
    { ...p(2, 'FIN') }, // equal: copied
    p(4, 'é "q"'), // equal, with escapes and UTF-8
    { ...p(1), offset: -0 }, // equal as JSON (-0 is written 0)
    p(2), // same frame, no note
    { ...p(1), win: 513 }, { ...p(1), states: { client: 'ESTABLISHED', server: 'CLOSE_WAIT' } }, { ...p(3), time: 1 }, { ...p(3), ack: 8 },
    p(9), // not in the ladder
  ];
  const findings: Finding[] = [
    { ...sf, connection: 'c7', evidence: variants.slice(0, 5) },
    { ...sf, connection: 'c7', evidence: variants.slice(5) },
    { ...sf, connection: 'c7', evidence: [] },
  ];
  const text = (s: { buf: Uint8Array; at: number; end: number } | null): string => Buffer.from((s as { buf: Uint8Array }).buf.subarray((s as { at: number }).at, (s as { end: number }).end)).toString('utf8');
  for (const conn of [c, { ...c, findings: [] }]) {
    // With ladders of connections with findings only, the second one's ladder is left out: nothing to copy from.
    const r = spoolRecord(conn, findings, 0, 0, { json: true, ladders: 'findings' });
    assert.equal(text(r.json), conn.findings.length > 0 ? JSON.stringify(connectionJson(conn)) : elided(conn));
    for (let i = 0; i < findings.length; i++) assert.equal(text((r.findings[i] as { json: { buf: Uint8Array; at: number; end: number } }).json), JSON.stringify(findings[i]), `finding ${i}`);
  }
  // LadderSpans answers only an equal packet of the ladder.
  const spans = new LadderSpans();
  const w = new JsonBytes(8);
  writeConnectionJson(w, c, false, spans);
  assert.deepEqual(variants.map((v) => spans.find(v)), [1, 3, 0, -1, -1, -1, -1, -1, -1]);
  for (let i = 0; i < ladder.length; i++) {
    assert.equal(Buffer.from(w.buf.subarray(spans.at[i] as number, spans.end[i] as number)).toString('utf8'), JSON.stringify(ladder[i]));
  }
});
