import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Report } from '../../src/model/report.js';
import { decodeFrame } from '../../src/decode/decode.js';
import { formatEndpoint } from '../../src/decode/format.js';
import { newTcpPacket } from '../../src/decode/packet.js';
import { ExtractError, extractCapture, type ExtractOptions } from '../../src/extract/extract.js';
import { SelectionError } from '../../src/extract/select.js';
import { compareVerdicts } from '../../src/extract/verify.js';
import { PcapngBuilder } from '../helpers/pcapng-writer.js';
import { fixture, merged, readFrames, report, tmp, type Frame } from '../check/util.js';
import { endpointText } from '../../src/model/endpoint.js';

/** Frames of `path` on the 4-tuple of `client`/`server` within [first, last]. */
function framesOf(frames: readonly Frame[], client: string, server: string, first: number, last: number): Frame[] {
  const pkt = newTcpPacket();
  return frames.filter((f) => {
    if (f.index < first || f.index > last) return false;
    if (decodeFrame({ ...f, data: f.bytes, dataOffset: 0, capLength: f.bytes.length, fileOffset: 0 }, pkt) !== 'ok') return false;
    const s = formatEndpoint(pkt.ipVersion, pkt.src, pkt.srcPort);
    const d = formatEndpoint(pkt.ipVersion, pkt.dst, pkt.dstPort);
    return (s === client && d === server) || (s === server && d === client);
  });
}

const SCENES = ['fin-client-first.pcap', 'rst-linger0.pcap', 'close-wait-short.pcap', 'tw-reuse-lower-isn.pcap', 'lost-final-ack-captured.pcap'];

describe('extract from a big capture (real captures merged by time)', () => {
  let dir: string;
  let big: string;
  let bigReport: Report;
  let bigFrames: Frame[];
  before(async () => {
    dir = await tmp('teardown-extract-');
    big = join(dir, 'big.pcap');
    await merged(big, SCENES);
    bigReport = await report(big);
    bigFrames = await readFrames(big);
    assert.ok(bigReport.connections.length >= SCENES.length, "bigReport.connections.length >= SCENES.length");
  });

  const run = async (name: string, o: Omit<ExtractOptions, 'output'>, settings = {}) => {
    const out = join(dir, name);
    const r = await extractCapture(big, { ...o, output: out, settings });
    return { r, out, again: await report(out, settings) };
  };

  it('gives the same verdicts for each chosen connection, with its exact frames, link type and timestamps', async () => {
    for (const c of bigReport.connections) {
      const { r, out, again } = await run(`${c.id}.pcap`, { connections: [c.id] });
      const chosen = r.selection.connections;
      assert.ok(chosen.some((x) => x.id === c.id), `${c.id} chosen`);
      assert.deepEqual(compareVerdicts(bigReport, chosen, again), [], `${c.id} ${endpointText(c.client)} → ${endpointText(c.server)}`);
      const want = chosen.flatMap((x) => framesOf(bigFrames, endpointText(x.client), endpointText(x.server), x.firstFrame, x.lastFrame)).sort((a, b) => a.index - b.index);
      const got = await readFrames(out);
      const tcp = got.filter((f) => f.index <= want.length);
      assert.equal(r.frames, want.length);
      assert.deepEqual(tcp.map((f) => [f.tsSec, f.tsNsec, f.linkType, f.wireLength, f.bytes.toString('hex')]),
        want.map((f) => [f.tsSec, f.tsNsec, f.linkType, f.wireLength, f.bytes.toString('hex')]), c.id);
      assert.equal(r.linkType, 1);
      assert.ok(got.length === want.length || got.length === want.length + 1, 'at most the end marker more');
    }
  });

  it('keeps the capture\'s end time, so a half-close still looks as old as it was (and shows why with the marker off)', async () => {
    const c = bigReport.connections.find((x) => x.findings.includes('stuck-half-close'))!;
    const age = bigReport.capture.lastTime! - c.times.halfClosed!;
    assert.ok(age > 5, `the merged capture runs on ${age} s after the half-close`);
    const settings = { halfCloseTimeout: age / 2 }; // stuck in the big capture
    const original = await report(big, settings);
    assert.equal(original.findings.find((f) => f.connection === c.id && f.kind === 'stuck-half-close')?.details.stuck, true);
    const withMarker = await run('hc.pcap', { connections: [c.id] }, settings);
    assert.notEqual(withMarker.r.markerTime, null);
    assert.equal(withMarker.again.capture.undecodable['not-tcp'], 1);
    assert.equal(withMarker.again.capture.lastTime, original.capture.lastTime);
    assert.deepEqual(compareVerdicts(original, withMarker.r.selection.connections, withMarker.again), []);
    const without = await run('hc-nomarker.pcap', { connections: [c.id], endMarker: false }, settings);
    assert.equal(without.r.markerTime, null);
    assert.notDeepEqual(compareVerdicts(original, without.r.selection.connections, without.again), [], 'without the marker the half-close is 0 s old');
  });

  it('--finding picks the connections with it and brings the incarnation a reuse is judged against', async () => {
    const { r, again } = await run('reuse.pcap', { connections: [], finding: 'time-wait-reuse' });
    const reuse = bigReport.findings.filter((f) => f.kind === 'time-wait-reuse');
    assert.ok(reuse.length >= 1, "reuse.length >= 1");
    const ids = r.selection.connections.map((c) => c.id);
    for (const f of reuse) {
      assert.ok(ids.includes(f.connection), "ids.includes(f.connection)");
      assert.ok(ids.includes(f.details.previous as string), 'the previous incarnation comes along');
    }
    assert.match(r.selection.added[0]!.reason, /time-wait-reuse on c\d+ is judged against it/);
    assert.deepEqual(compareVerdicts(bigReport, r.selection.connections, again), []);
    assert.equal(again.findings.filter((f) => f.kind === 'time-wait-reuse').length, reuse.length);
  });

  it('selects by tuple (all incarnations, or #n), and widens an id with --all-incarnations', async () => {
    const reused = bigReport.connections.find((c) => c.incarnation === 1)!;
    const tuple = `${endpointText(reused.server)} -> ${endpointText(reused.client)}`;
    const all = await run('tuple.pcap', { connections: [tuple] });
    assert.deepEqual(all.r.selection.connections.map((c) => c.incarnation), [0, 1]);
    const one = await run('tuple1.pcap', { connections: [`${tuple} #0`] });
    assert.deepEqual(one.r.selection.connections.map((c) => c.incarnation), [0]);
    assert.deepEqual(compareVerdicts(bigReport, one.r.selection.connections, one.again), []);
    const first = bigReport.connections.find((c) => c.next === reused.id)!;
    const widened = await run('widened.pcap', { connections: [first.id], allIncarnations: true });
    assert.deepEqual(widened.r.selection.connections.map((c) => c.id), [first.id, reused.id]);
    assert.match(widened.r.selection.added[0]!.reason, /--all-incarnations/);
  });

  it('explains what it cannot select, and leaves no file behind', async () => {
    const out = join(dir, 'never.pcap');
    const fails = async (o: Partial<ExtractOptions>, kind: typeof SelectionError | typeof ExtractError, re: RegExp, input = big) => {
      await assert.rejects(extractCapture(input, { connections: [], output: out, ...o }), (e: unknown) => e instanceof kind && re.test((e as Error).message));
    };
    await fails({}, SelectionError, /say which connections to extract/);
    await fails({ connections: ['c999'] }, SelectionError, /no connection c999 in the capture \(it has \d+: c1 127\.0\.0\.1:/);
    await fails({ connections: ['10.9.9.9:1 -> 10.9.9.8:2'] }, SelectionError, /no connection 10\.9\.9\.9:1 ↔ 10\.9\.9\.8:2/);
    await fails({ connections: ['first'] }, SelectionError, /--connection: 'first' is neither/);
    await fails({ finding: 'stuck' }, SelectionError, /unknown kind 'stuck'/);
    const plain = bigReport.connections.find((c) => c.findings.length === 0)!;
    await fails({ connections: [plain.id], finding: 'refused' }, SelectionError, /none of the chosen connections has it/);
    await fails({ connections: ['c1'] }, ExtractError, /not standard input/, '-');
    await fails({ connections: ['c1'], output: big }, ExtractError, /would overwrite the input/);
    await fails({ connections: ['c1'], output: join(dir, 'no/such/dir/x.pcap') }, ExtractError, /no such directory/);
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('never') || n.includes('.tmp-')), []);
  });
});

describe('extract: capture formats', () => {
  it('pcapng in, classic pcap out, nanosecond timestamps kept exactly', async () => {
    const dir = await tmp('teardown-extract-');
    const out = join(dir, 'x.pcap');
    const r = await extractCapture(fixture('fin-client-first.pcapng'), { connections: ['c1'], output: out });
    const src = await readFrames(fixture('fin-client-first.pcapng'));
    const got = await readFrames(out);
    assert.equal(r.linkType, src[0]!.linkType);
    assert.deepEqual(got.map((f) => [f.tsSec, f.tsNsec, f.bytes.toString('hex')]), src.map((f) => [f.tsSec, f.tsNsec, f.bytes.toString('hex')]));
    assert.deepEqual(compareVerdicts(r.source, r.selection.connections, await report(out)), []);
  });

  it('keeps a Linux cooked (SLL2) link type', async () => {
    const dir = await tmp('teardown-extract-');
    const out = join(dir, 'any.pcap');
    const r = await extractCapture(fixture('fin-client-first-any.pcap'), { connections: ['c1'], output: out });
    const got = await readFrames(out);
    assert.equal(got[0]!.linkType, (await readFrames(fixture('fin-client-first-any.pcap')))[0]!.linkType);
    assert.deepEqual(compareVerdicts(r.source, r.selection.connections, await report(out)), []);
  });

  it('refuses packets of several link types in one pcap, and keeps one with --link-type', async () => {
    // A pcapng with two interfaces: the same tuple recorded through Ethernet (if 0) and through `any` (SLL2, if 1).
    const eth = await readFrames(fixture('fin-client-first.pcap'));
    const sll = await readFrames(fixture('fin-client-first-any.pcap'));
    assert.notEqual(eth[0]!.linkType, sll[0]!.linkType);
    const all = [...eth.map((f) => ({ f, ifid: 0 })), ...sll.map((f) => ({ f, ifid: 1 }))]
      .sort((a, b) => a.f.tsSec - b.f.tsSec || a.f.tsNsec - b.f.tsNsec);
    const b = new PcapngBuilder().shb().idb(eth[0]!.linkType, { tsresol: 9 }).idb(sll[0]!.linkType, { tsresol: 9 });
    for (const { f, ifid } of all) b.epb(ifid, BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec), f.bytes);
    const dir = await tmp('teardown-extract-');
    const input = join(dir, 'two-links.pcapng');
    await writeFile(input, b.build());
    const rep = await report(input);
    const tuple = `${endpointText(rep.connections[0]!.client)} -> ${endpointText(rep.connections[0]!.server)}`;
    const out = join(dir, 'out.pcap');
    await assert.rejects(extractCapture(input, { connections: [tuple], output: out }),
      (e: unknown) => e instanceof ExtractError && /different link types \(\d+ frame\(s\) with link type \d+ \(.*\), \d+ frame\(s\) with link type \d+ .*add --link-type/.test(e.message));
    assert.deepEqual(await readdir(dir), ['two-links.pcapng'], 'nothing written');
    const r = await extractCapture(input, { connections: [tuple], output: out, linkType: eth[0]!.linkType });
    assert.equal(r.frames, eth.length);
    assert.match(r.warnings.join('\n'), /left out \d+ frame\(s\) with link type/);
    assert.ok((await readFrames(out)).every((f) => f.linkType === eth[0]!.linkType), "(await readFrames(out)).every((f) => f.linkType === eth[0]!.");
  });
});
