/**
 * `teardown live` running for hours: what it retains is bounded by the connections open at once, not by the
 * connections ever seen. The live analysis loop (analyzeLive, as the live command runs it) is fed a generated stream
 * of many short connections — a real capture's connection (fixtures/rst-linger0.pcap: a handshake, data, an RST
 * teardown, so one finding each) repeated from a new client port every 200 ms — into each of the live outputs
 * (NDJSON, text, the interactive view). Half-way and at the end, after a full garbage collection, the heap is
 * measured and what the view holds is counted: the heap does not grow with the connections (a retained report is
 * about 5 KB: 15,000 more of them add ~75 MiB), the view keeps at most its bounded list, and the counts
 * stay exact.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import type { AnalysisSink } from '../../src/analyze/sink.js';
import { openCapture } from '../../src/capture/open.js';
import type { FrameSink, PacketSource, RawFrame } from '../../src/capture/types.js';
import { analyzeLive } from '../../src/cli/commands/live.js';
import type { Report } from '../../src/model/report.js';
import { TextView } from '../../src/report/live-text.js';
import { NdjsonSink } from '../../src/report/ndjson.js';
import { LIVE_VIEW_FINDINGS, StoreLiveView } from '../../src/ui/live-view.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const CONNECTIONS = 20_000;
const SPACING = 0.2;

interface Template { linkType: number; frames: { t: number; bytes: Buffer; portAt: number }[] }

/** The frames of a one-connection capture, with where each holds the client's port (Ethernet, IPv4). */
async function template(path: string): Promise<Template> {
  const src = await openCapture(path);
  const frames: Template['frames'] = [];
  let linkType = -1;
  let client = -1;
  await src.run((f: RawFrame) => {
    linkType = f.linkType;
    const bytes = Buffer.from(f.data.subarray(f.dataOffset, f.dataOffset + f.capLength));
    const tcp = 14 + (bytes[14]! & 0x0f) * 4;
    const sport = bytes.readUInt16BE(tcp);
    if (client === -1) client = sport;
    frames.push({ t: f.tsSec + f.tsNsec * 1e-9, bytes, portAt: sport === client ? tcp : tcp + 2 });
  });
  return { linkType, frames };
}

/** `copies` of the template, each from its own client port, SPACING apart; `at(copies done)` every 1,000. */
function repeated(tpl: Template, copies: number, at: (done: number) => void): PacketSource {
  const t0 = tpl.frames[0]!.t;
  let read = 0;
  return {
    info: { path: 'generated', format: 'live', compressed: false, linkTypes: [tpl.linkType], totalBytes: null, drops: 0, dropCounters: null },
    get bytesRead() { return read; },
    async run(sink: FrameSink) {
      const f: RawFrame = { index: 0, tsSec: 0, tsNsec: 0, linkType: tpl.linkType, interfaceId: 0, data: Buffer.alloc(0), dataOffset: 0, capLength: 0, wireLength: 0, fileOffset: 0 };
      for (let i = 0; i < copies; i++) {
        for (const fr of tpl.frames) {
          fr.bytes.writeUInt16BE(1024 + i, fr.portAt);
          const t = 1_700_000_000 + i * SPACING + (fr.t - t0);
          f.index++;
          f.tsSec = Math.floor(t);
          f.tsNsec = Math.round((t - f.tsSec) * 1e9) % 1e9;
          f.data = fr.bytes;
          f.capLength = f.wireLength = fr.bytes.length;
          read += fr.bytes.length;
          sink(f);
        }
        if ((i + 1) % 1000 === 0) at(i + 1);
      }
      return { frames: f.index, error: null, warnings: [] };
    },
  };
}

interface Probe { heapMiB: number; viewFindings: number; viewConnections: number }

async function runLive(view: AnalysisSink, kept?: () => { findings: readonly unknown[]; connections: readonly unknown[] }): Promise<{ report: Report; probes: Map<number, Probe> }> {
  const tpl = await template(fileURLToPath(new URL('../../fixtures/rst-linger0.pcap', import.meta.url)));
  const probes = new Map<number, Probe>();
  const source = repeated(tpl, CONNECTIONS, (done) => {
    if (done !== CONNECTIONS / 4 && done !== CONNECTIONS) return;
    gc();
    const k = kept?.();
    probes.set(done, { heapMiB: process.memoryUsage().heapUsed / 2 ** 20, viewFindings: k?.findings.length ?? 0, viewConnections: k?.connections.length ?? 0 });
  });
  const { report } = await analyzeLive(source, false, { sink: view, memoryGuard: null });
  return { report, probes };
}

function assertBounded(report: Report, probes: Map<number, Probe>): void {
  const quarter = probes.get(CONNECTIONS / 4)!;
  const end = probes.get(CONNECTIONS)!;
  const growth = end.heapMiB - quarter.heapMiB;
  assert.ok(growth < 25, `heap grew ${growth.toFixed(1)} MiB from ${CONNECTIONS / 4} to ${CONNECTIONS} connections (${quarter.heapMiB.toFixed(1)} → ${end.heapMiB.toFixed(1)} MiB)`);
  // Exact counts: every connection judged, one RST-teardown finding each.
  assert.equal(report.summary.connections, CONNECTIONS);
  assert.equal(report.summary.findings['rst-teardown'], CONNECTIONS);
  assert.equal(report.capture.packets, CONNECTIONS * 8);
  // Nothing per connection in the report itself: the lines went out as connections ended.
  assert.equal(report.connections.length, 0);
  assert.equal(report.findings.length, 0);
}

test('live NDJSON over many short connections: retained state stays bounded, counts exact', { timeout: 300_000 }, async () => {
  let lines = 0;
  const view = new NdjsonSink(() => { lines++; });
  const { report, probes } = await runLive(view);
  view.end(report);
  assert.equal(lines, 2 * CONNECTIONS + 1);
  assertBounded(report, probes);
});

test('live text over many short connections: the report comes from a bounded digest, counts exact', { timeout: 300_000 }, async () => {
  let printed = '';
  let findings = 0;
  const view = new TextView((s) => { if (s.startsWith('[')) findings++; else printed += s; }, null);
  const { report, probes } = await runLive(view);
  view.end(report, {});
  assert.equal(findings, CONNECTIONS);
  assertBounded(report, probes);
  // The final text report: exact totals, the worst 50 findings of the kind in full.
  assert.match(printed, new RegExp(`${CONNECTIONS} connections`));
  assert.match(printed, new RegExp(`rst-teardown\\s+${CONNECTIONS}\\b`));
  assert.equal(printed.match(/^\[warn\] rst-teardown/gm)?.length ?? 0, 50);
});

test('the live view over many short connections keeps the latest findings only, with exact counts', { timeout: 300_000 }, async () => {
  const view = new StoreLiveView({ interface: 'lo', filter: 'tcp', stop: () => {} });
  const { report, probes } = await runLive(view, () => view.store.kept());
  for (const p of probes.values()) {
    assert.ok(p.viewFindings <= LIVE_VIEW_FINDINGS * 1.25, `${p.viewFindings} findings kept`);
    assert.ok(p.viewConnections <= p.viewFindings, `${p.viewConnections} connections kept`);
  }
  assertBounded(report, probes);
  const printed: string[] = [];
  view.show({ close: () => {}, print: (s) => { printed.push(s); } });
  await view.end(report, { live: { stoppedBy: 'SIGINT', seconds: 1 } });
  const snap = view.store.getSnapshot();
  assert.equal(snap.phase, 'done');
  assert.equal(snap.live?.connectionsEnded, CONNECTIONS);
  assert.equal(snap.live?.findings, CONNECTIONS);
  assert.ok(snap.findings.length > 0 && snap.findings.length <= LIVE_VIEW_FINDINGS * 1.25, `${snap.findings.length} findings in the final view`);
  // The latest findings: the last connection's is among them.
  assert.ok(snap.findings.some((f) => snap.connections.get(f.connection)?.client.port === 1024 + CONNECTIONS - 1));
  assert.match(printed.join(''), new RegExp(`rst-teardown\\s+${CONNECTIONS}\\b`));
});
