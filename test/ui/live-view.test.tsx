/**
 * The live UI (src/ui/live-view.tsx) driven the way `teardown live` drives it: a real AnalysisSession over its
 * hooks, fed the frames of a real capture, ticked on a clock, with once-a-second stats; rendered by
 * ink-testing-library.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import { captureSummary } from '../../src/analyze/analyze.js';
import { AnalysisSession } from '../../src/analyze/session.js';
import type { LiveStats } from '../../src/analyze/sink.js';
import { openCapture } from '../../src/capture/open.js';
import type { PacketSource, SourceResult } from '../../src/capture/types.js';
import { StoreLiveView } from '../../src/ui/live-view.js';
import { fixture, KEY } from './helpers.js';

const LINGER = fixture('rst-linger0.pcap');
const SHORT = fixture('close-wait-short.pcap');
const cleanups: (() => void)[] = [];
after(() => { for (const c of cleanups) c(); });

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Harness {
  view: StoreLiveView;
  session: AnalysisSession;
  source: PacketSource;
  result: SourceResult;
  stops: string[];
  printed: string[];
  closes: () => number;
  frame(): string;
  framesSoFar(): number;
  waitFor(ok: (f: string) => boolean, what: string, ms?: number): Promise<string>;
  press(k: string): Promise<void>;
  stats(over?: Partial<LiveStats>): void;
}

/** A live view on a fake screen, fed `path` frame by frame through its hooks and ticks (like streamAnalysis). */
async function liveOver(path: string, columns = 100): Promise<Harness> {
  const stops: string[] = [];
  const printed: string[] = [];
  let closes = 0;
  const view = new StoreLiveView({ interface: 'lo', filter: 'tcp', stop: (why) => { stops.push(why); } });
  const app = render(view.element({ columns, rows: 30 }));
  cleanups.push(() => app.unmount());
  view.show({ close: () => { closes++; app.unmount(); }, print: (s) => { printed.push(s); } });

  const source = await openCapture(path);
  const session = new AnalysisSession({}, view.hooks);
  let next = -Infinity;
  let drawnInLoop = 0;
  const result = await source.run((f) => {
    const before = app.frames.length;
    session.ingest(f);
    const t = f.tsSec + f.tsNsec * 1e-9;
    if (t >= next) { if (next !== -Infinity) view.tick(session, t); next = t + 1; }
    drawnInLoop += app.frames.length - before;
  });
  assert.equal(drawnInLoop, 0, 'nothing is drawn inside the packet loop');
  const frame = () => stripVTControlCharacters(app.lastFrame() ?? '');
  const h: Harness = {
    view, session, source, result, stops, printed, closes: () => closes, frame, framesSoFar: () => app.frames.length,
    async waitFor(ok, what, ms = 3000) {
      const until = Date.now() + ms;
      while (!ok(frame())) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}; frame:\n${frame()}`);
        await sleep(20);
      }
      return frame();
    },
    async press(k) { app.stdin.write(k); await sleep(50); },
    stats(over = {}) {
      const k = session.counters;
      view.stats({
        interface: 'lo', filter: 'tcp', packets: k.packets, tcpPackets: k.tcpPackets, rate: 42, drops: null, dropsSource: null,
        connectionsEnded: k.connections, findings: Object.values(k.findings).reduce((a, n) => a + (n ?? 0), 0),
        elapsedSeconds: 3, ...over,
      });
    },
  };
  return h;
}

const endTime = (s: AnalysisSession) => s.counters.lastTime ?? 0;

test('live header (interface, filter, packets/s, drops n/a) and an RST teardown appearing as its connection ends; q stops and closes', { skip: LINGER.skip }, async () => {
  const h = await liveOver(LINGER.path);
  // Before any stats: the interface and filter are there already, drops unknown.
  let f = await h.waitFor((x) => x.includes(' live ') && x.includes('lo'), 'the live header');
  assert.match(f, /capturing/);
  assert.match(f, /filter: tcp/);
  assert.match(f, /drops n\/a/);

  // The clock passes the closed connection's linger: it is judged and its finding appears.
  h.view.tick(h.session, endTime(h.session) + 10);
  h.stats();
  f = await h.waitFor((x) => x.includes('rst-teardown'), 'the rst-teardown finding');
  assert.match(f, /42 pkt\/s/);
  assert.ok(f.includes(`${h.session.counters.packets} packets`), f);
  assert.match(f, /1 ended/);
  assert.match(f, /Findings\s+1 so far/);

  // The findings list shows it with its connection (ended, so known).
  await h.press('2');
  f = await h.waitFor((x) => x.includes('sort: time'), 'the findings list');
  assert.match(f, /rst-teardown/);
  assert.match(f, /127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+/);

  // q: the capture is asked to stop once; live.ts then ends it and end() closes the UI and prints the report.
  await h.press('q');
  assert.deepEqual(h.stops, ['q']);
  await h.press(KEY.ctrlC);
  assert.deepEqual(h.stops, ['q'], 'asked once');
  const report = h.session.finish(captureSummary(h.source, h.session, h.result));
  await h.view.end(report, { evicted: 0, live: { stoppedBy: 'SIGINT', seconds: 3 } });
  assert.equal(h.closes(), 1);
  const out = h.printed.join('');
  assert.match(out, /rst-teardown/);
});

test('a half-close the clock declares stuck appears while its connection is still open; --duration keeps the final report up until q', { skip: SHORT.skip }, async () => {
  const h = await liveOver(SHORT.path);
  await h.waitFor((x) => x.includes('lo'), 'the live header');
  assert.doesNotMatch(h.frame(), /stuck-half-close/);

  // No packets, only the clock: past the half-close timeout (60 s) the stuck side is announced.
  h.view.tick(h.session, endTime(h.session) + 61);
  h.stats({ rate: 0 });
  let f = await h.waitFor((x) => x.includes('stuck-half-close'), 'the stuck half-close');
  assert.match(f, /0 ended/);
  await h.press('2');
  f = await h.waitFor((x) => x.includes('sort: time'), 'the findings list');
  assert.match(f, /stuck-half-close/);
  assert.match(f, /\(connection still open\)/);

  // --duration ends the capture: the UI shows the final report and stays until q.
  const report = h.session.finish(captureSummary(h.source, h.session, h.result));
  let ended = false;
  const ending = h.view.end(report, { evicted: 0, live: { stoppedBy: 'duration', seconds: 5 } }).then(() => { ended = true; });
  f = await h.waitFor((x) => x.includes('capture stopped (duration)'), 'the stopped header');
  assert.match(f, / stopped /);
  assert.match(f, /stuck-half-close/);
  assert.match(f, /1 ended/, 'the final report counts the connection');
  await sleep(100);
  assert.equal(ended, false, 'waits for q');
  assert.equal(h.closes(), 0);
  await h.press('q');
  await ending;
  assert.equal(h.closes(), 1);
  assert.match(h.printed.join(''), /stuck-half-close/);
});

test('redraws are throttled: a burst of stats and ticks draws a handful of frames, not one each', { skip: LINGER.skip }, async () => {
  const h = await liveOver(LINGER.path);
  await h.waitFor((x) => x.includes('lo'), 'the live header');
  await sleep(150);
  const before = h.framesSoFar();
  const t0 = endTime(h.session);
  for (let i = 0; i < 200; i++) { h.view.tick(h.session, t0 + i * 0.01); h.stats({ packets: i, rate: i }); }
  await sleep(350);
  const drawn = h.framesSoFar() - before;
  assert.ok(drawn >= 1 && drawn <= 6, `${drawn} frames for 400 updates in ~0.35 s`);
  await h.waitFor((x) => x.includes('199 pkt/s'), 'the last stats');
});
