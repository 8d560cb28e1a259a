/**
 * Flow identity on real captures (src/tcp/flow-table.ts): the key is the inner 4-tuple; what differs per direction
 * (a VLAN tag, a tunnel, the interface) does not split a connection, while two different connections on the same
 * tuple in different VLANs are kept apart by their sequence numbers; --flow-key tuple+vlan / tuple+interface
 * separate strictly.
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyzeFile } from '../../src/analyze/analyze.js';
import type { FlowKey, Report } from '../../src/model/report.js';
import { PcapngBuilder } from '../helpers/pcapng-writer.js';
import {
  fromClients, mergeByTime, readFrames, shiftSeq, shiftTime, tagSome, toPcap, verdicts, type Frame,
} from '../helpers/rewrite.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('td-flowkey-');
const fixtures = readdirSync('fixtures').filter((f) => f.endsWith('.pcap') && !f.includes('-any')).sort();

async function analyze(bytes: Buffer, name: string, flowKey?: FlowKey): Promise<Report> {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return (await analyzeFile(p, flowKey ? { settings: { flowKey } } : {})).report;
}

/** What each connection was judged, without its tuple: a multiset to compare captures that share tuples. */
const judged = (r: Report) => r.connections.map((c) => JSON.stringify([c.teardown, c.closer, c.ending, c.states, c.handshake, c.findings])).sort();


describe('flow identity', () => {
  test('the same capture twice on the same 4-tuples, in VLAN 10 and VLAN 20 with other sequence numbers: two connections each, every one judged as alone', async () => {
    let compared = 0;
    for (const f of fixtures) {
      const frames = await readFrames(join('fixtures', f));
      if (frames[0]?.linkType !== 1) continue;
      const base = await analyze(toPcap(frames), `${f}-base.pcap`);
      let other = tagSome(frames, () => true, 20);
      // Another connection's ISNs: far from these in both directions (RFC 9293 §3.4.1 clock-driven, here fixed).
      for (const port of new Set(base.connections.map((c) => c.client.port))) other = shiftSeq(other, port, 0x40000000);
      for (const port of new Set(base.connections.map((c) => c.server.port))) other = shiftSeq(other, port, 0x60000000);
      const merged = mergeByTime(tagSome(frames, () => true, 10), shiftTime(other, 1000n));
      const r = await analyze(toPcap(merged), `${f}-vrf.pcap`);
      assert.deepEqual(judged(r), [...judged(base), ...judged(base)].sort(), f);
      compared++;
    }
    assert.ok(compared >= 10, `${compared} captures`);
  });

  test('a tuple reused after a close, on another path (a new VLAN, as a mobile bearer gets a new TEID per connection), is the next incarnation: the reuse is still judged', async () => {
    let compared = 0;
    for (const f of fixtures.filter((n) => n.includes('tw-reuse'))) {
      const frames = await readFrames(join('fixtures', f));
      const base = await analyze(toPcap(frames), `${f}-reuse-base.pcap`);
      const second = base.connections.find((c) => c.incarnation === 1);
      assert.ok(second, f);
      assert.ok(base.findings.some((x) => x.kind === 'time-wait-reuse'), f);
      // Every frame from the second incarnation's SYN on travels in VLAN 30, both directions.
      const moved = tagSome(frames, (x) => frames.indexOf(x) + 1 >= second.firstFrame, 30);
      const r = await analyze(toPcap(moved), `${f}-reuse-moved.pcap`);
      assert.deepEqual(verdicts(r), verdicts(base), f);
      compared++;
    }
    assert.ok(compared >= 4, `${compared} captures`);
  });

  test('--flow-key tuple+vlan splits a connection whose client→server frames alone are tagged; the default keeps it whole', async () => {
    const frames = await readFrames(join('fixtures', 'fin-client-first.pcap'));
    const base = await analyze(toPcap(frames), 'fk-base.pcap');
    const tagged = toPcap(tagSome(frames, fromClients(base), 10));
    const whole = await analyze(tagged, 'fk-tuple.pcap');
    assert.deepEqual(judged(whole), judged(base));
    assert.equal(whole.settings.flowKey, 'tuple');
    const strict = await analyze(tagged, 'fk-vlan.pcap', 'tuple+vlan');
    assert.equal(strict.connections.length, 2 * base.connections.length);
    assert.equal(strict.settings.flowKey, 'tuple+vlan');
    // Each half knows only its own direction: c2s carried the tag, s2c did not.
    const enc = strict.connections.map((c) => c.encapsulation?.text ?? 'none').sort();
    assert.ok(enc.includes('vlan 10'), enc.join(' / '));
  });

  test('--flow-key tuple+interface: the directions on two pcapng interfaces are one connection by default, two when strict', async () => {
    const frames = await readFrames(join('fixtures', 'fin-client-first.pcap'));
    const base = await analyze(toPcap(frames), 'if-base.pcap');
    const c2s = fromClients(base);
    const b = new PcapngBuilder().shb().idb(1, { tsresol: 9 }).idb(1, { tsresol: 9 });
    for (const f of frames as Frame[]) b.epb(c2s(f) ? 0 : 1, BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec), f.bytes, { origLength: f.wireLength });
    const ng = b.build();
    assert.deepEqual(judged(await analyze(ng, 'if-tuple.pcapng')), judged(base));
    const strict = await analyze(ng, 'if-strict.pcapng', 'tuple+interface');
    assert.equal(strict.connections.length, 2 * base.connections.length);
  });
});
