/**
 * The JSON byte writers of src/model/json-bytes.ts give JSON.stringify's bytes: on every connection and finding of every
 * fixture, and on values built to reach every escape and every optional field.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { aggregateJson, connectionJson } from '../../src/model/json.js';
import { JsonBytes, writeConnectionJson, writeFindingJson, writePacketRef, writePairAggregate, writeServerAggregate } from '../../src/model/json-bytes.js';
import type { ConnectionReport, Finding, PacketRef } from '../../src/model/report.js';
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
    const p: PacketRef = {
      frame: 1, time: 1.5e-7, offset: -0, dir: 'c2s', flags: 'FIN,ACK', seq: 4294967295, ack: null, relSeq: 0, relAck: null, len: 0, win: 65535,
      states: { client: 'FIN_WAIT_1', server: 'ESTABLISHED' }, note: 'FIN "quoted"\n',
    };
    assert.equal(packetRefText(p), JSON.stringify(p));
    const { note: _, ...noNote } = p;
    assert.equal(packetRefText(noNote), JSON.stringify(noNote));
    const c: ConnectionReport = {
      id: '\u00011.2\u0002', client: { ipVersion: 6, address: 'fe80::1', port: 1 }, server: { ipVersion: 6, address: '::', port: 443 },
      clientGuessed: true, ipVersion: 6, incarnation: 2, previous: 'c1', next: null, firstFrame: 3, lastFrame: 9, start: 1e21, end: NaN, packets: 7,
      bytes: { c2s: 0.1, s2c: Infinity }, retransmissions: { c2s: 0, s2c: 1 }, keepalives: { c2s: 2, s2c: 3 }, duplicates: 0, handshake: 'midstream',
      retries: { syn: 0, synAck: 1 }, teardown: 'half-close', closer: null, ending: 'half-closed', states: { client: 'CLOSE_WAIT', server: 'FIN_WAIT_2' },
      findings: ['stuck-half-close', 'rst-ignored'], times: { halfClosed: 1.25, closed: null, timeWaitUntil: null, reset: -1 },
      revisions: [{ frame: 4, revisedBy: 5, what: 'fin-not-sent', why: 'a "why"\twith tab' }],
      inferences: [{ frame: 6, what: 'fin-not-captured', side: 'server', why: 'ACK +1' }],
      capture: 'one-sided', missingSide: 'server', capturePoint: 'middle', filter: 'ipv6.addr==fe80::1 && tcp.port==1', ladder: [p, noNote], elided: 5,
      encapsulation: { c2s: [{ type: 'vlan', id: 10 }], s2c: null, text: 'vlan 10', changed: { c2s: 0, s2c: 1 } }, captureLoss: 12,
    };
    assert.equal(connectionJsonText(c), JSON.stringify(connectionJson(c)));
    assert.equal(connectionJsonText(c, true), elided(c));
    const { inferences: _i, encapsulation: _e, captureLoss: _l, ...bare } = c;
    assert.equal(connectionJsonText(bare), JSON.stringify(connectionJson(bare)));
    const f: Finding = {
      kind: 'rst-ignored', severity: 'warn', connection: c.id, summary: 'RST "out of window"', why: 'seq ∉ window\u0000', rule: 'RFC 5961 §3',
      time: 1735689600.000001, evidence: [p, noNote], details: { a: 1, b: [null, 'x'], c: { d: undefined, e: NaN } },
    };
    assert.equal(findingJsonText(f), JSON.stringify(f));
    assert.equal(findingJsonText({ ...f, evidence: [] }), JSON.stringify({ ...f, evidence: [] }));
  });
});
