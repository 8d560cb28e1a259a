/**
 * CPU of the live analysis loop per packet, without a network: a capture's frames retimed to a steady rate (as
 * `tcpreplay --pps` sends them: frame i at i / rate seconds) go through the loop `teardown live` runs (analyzeLive,
 * its NDJSON sink and byte batching, src/cli/commands/live.ts) into /dev/null, in 1 MiB chunks as the capture ring
 * hands them over. Prints the JavaScript thread's CPU per packet for each window of packet time, and the table's
 * size: the cost a live capture at that rate pays as its state builds up, steadier than the namespace run
 * (test/live/rate.ts), which also needs root, tcpreplay and a quiet machine.
 *
 *   node --import tsx bench/live-cpu.ts [--file bench/data/tiled-3500k-s1.pcap] [--rate 200000] [--packets 2000000] [--window 1] [--profile steady.cpuprofile] [--threads 1]
 *
 * --threads N (N > 1): the frames go through the analysis threads as `teardown live --threads N` sends them
 * (src/report/live-threads.ts); the busiest other thread's CPU per packet is printed too (an analysis thread: the
 * pace is set by the slower of it and the JS thread).
 *
 * --profile: a V8 CPU profile (Chrome DevTools format) of the steady windows only: from 6 s of packet time to the
 * last packet, without the start-up and the final report.
 */
import { openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { ThreadedLiveSession } from '../src/report/live-threads.js';
import { Session } from 'node:inspector';
import type { AnalysisSession } from '../src/analyze/session.js';
import { openCapture } from '../src/capture/open.js';
import type { FrameSink, PacketSource } from '../src/capture/types.js';
import { analyzeLive } from '../src/cli/commands/live.js';
import { NdjsonBytes, NdjsonSink } from '../src/report/ndjson.js';
import { benchArgs } from './args.js';
import { parseCount } from './make-capture.js';

const { values: a } = benchArgs('node --import tsx bench/live-cpu.ts [--file bench/data/tiled-3500k-s1.pcap] [--rate 200000] [--packets 2000000] [--window 1] [--profile steady.cpuprofile] [--threads 1]', {
  options: {
    file: { type: 'string', default: 'bench/data/tiled-3500k-s1.pcap' },
    rate: { type: 'string', default: '200000' },
    packets: { type: 'string', default: '2M' },
    window: { type: 'string', default: '1' },
    profile: { type: 'string' },
    threads: { type: 'string', default: '1' },
  },
});
const rate = Number(a.rate);
const limit = parseCount(a.packets!);
const windowSeconds = Number(a.window);
const threads = Number(a.threads);

/** Packet time (s from the first packet) at which the steady windows begin: connections are judged at the capture's pace. */
const STEADY = 6;

/** The in-process profiler for --profile (the inspector's own session answers synchronously on this thread). */
const inspector = a.profile === undefined ? null : new Session();
let profiling = false;
function profile(on: boolean): void {
  if (inspector === null || on === profiling) return;
  profiling = on;
  if (on) {
    inspector.connect();
    inspector.post('Profiler.enable');
    inspector.post('Profiler.start');
    return;
  }
  inspector.post('Profiler.stop', (err, r) => {
    if (err === null) writeFileSync(a.profile!, JSON.stringify(r.profile));
    inspector.disconnect();
  });
}

const file = await openCapture(a.file!);
const t0 = Math.floor(Date.now() / 1000);
/** The capture's frames, frame i stamped t0 + i / rate, stopping after `limit`. */
const source: PacketSource = {
  info: { ...file.info, format: 'live' },
  get bytesRead() { return file.bytesRead; },
  run(sink: FrameSink, signal, gate) {
    let i = 0;
    return file.run((f) => {
      if (i >= limit) { profile(false); return; }
      const t = i++ / rate;
      f.tsSec = t0 + Math.floor(t);
      f.tsNsec = Math.round((t - Math.floor(t)) * 1e9);
      sink(f);
    }, signal, gate);
  },
};

/**
 * CPU µs of this process's main (JavaScript) thread so far, from /proc (10 ms ticks; null elsewhere): the thread
 * that sets a live capture's pace. The process's CPU also counts V8's helper threads (parallel and concurrent GC).
 */
function jsThreadMicros(): number | null {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 1e4;
  } catch {
    return null;
  }
}

/** CPU µs of each thread of this process but the main one, by thread id (analysis threads, GC helpers, libuv). */
function otherThreads(): Map<string, number> {
  const m = new Map<string, number>();
  try {
    for (const id of readdirSync('/proc/self/task')) {
      if (id === String(process.pid)) continue;
      const f = readFileSync(`/proc/self/task/${id}/stat`, 'utf8').split(') ')[1]!.split(' ');
      m.set(`${id} ${readFileSync(`/proc/self/task/${id}/comm`, 'utf8').trim()}`, (Number(f[11]) + Number(f[12])) * 1e4);
    }
  } catch { /* not Linux */ }
  return m;
}
/** The busiest other thread's CPU µs since `before`. */
function busiest(before: Map<string, number>, now: Map<string, number>): number {
  let best = 0;
  for (const [id, v] of now) best = Math.max(best, v - (before.get(id) ?? 0));
  return best;
}

const fd = openSync('/dev/null', 'w');
const lines = new NdjsonBytes((s) => { if (typeof s === 'string') writeSync(fd, s); else writeSync(fd, s); });
const ndjson = new NdjsonSink(lines, { ladders: 'findings' });
let next = windowSeconds;
let cpu = process.cpuUsage();
let packets = 0;
let ended = 0;
/** CPU µs and packets of the windows in which connections were judged at the capture's pace (past the first linger). */
let steadyCpu = 0;
let steadyPackets = 0;
let js = jsThreadMicros();
let steadyJs = 0;
const cpuAll = process.cpuUsage();
console.log(`${a.file} at ${rate} packets/s, ${limit} packets`);
console.log(`  time s  µs/pkt  (JS thread)  ${threads > 1 ? '(busiest other thread)  ' : ''}connections ended/s  open  tuples`);
let others = otherThreads();
let steadyOther = 0;
const sink = {
  hooks: ndjson.hooks,
  tick: (s: AnalysisSession, now: number) => ndjson.tick(s, now),
  progress: (s: AnalysisSession) => {
    const k = s.counters;
    const t = (k.lastTime ?? t0) - t0;
    if (t < next) return;
    const c = process.cpuUsage(cpu);
    const dp = k.packets - packets;
    const held = 'held' in s ? s.held : { connections: NaN, tuples: NaN };
    const othersNow = otherThreads();
    const dother = busiest(others, othersNow);
    others = othersNow;
    const jsNow = jsThreadMicros();
    const dj = js === null || jsNow === null ? NaN : jsNow - js;
    js = jsNow;
    if (t > STEADY) profile(true);
    if (t > STEADY) { steadyCpu += c.user + c.system; steadyPackets += dp; steadyJs += dj; steadyOther += dother; }
    console.log(`${t.toFixed(1).padStart(8)}  ${((c.user + c.system) / dp).toFixed(2).padStart(6)}  ${(dj / dp).toFixed(2).padStart(11)}  ${threads > 1 ? `${(dother / dp).toFixed(2).padStart(22)}  ` : ''}${String(Math.round((k.connections - ended) / (dp / rate))).padStart(19)}  ${String(held.connections).padStart(6)}  ${String(held.tuples).padStart(6)}`);
    packets = k.packets;
    ended = k.connections;
    cpu = process.cpuUsage();
    next += windowSeconds;
  },
};
const threaded = threads > 1 ? new ThreadedLiveSession({ threads, ladders: 'findings', out: lines, wait: true }) : null;
const { report } = await analyzeLive(source, false, threaded === null
  ? { sink, gate: () => { lines.flush(); return null; } }
  : { sink: { progress: sink.progress }, session: threaded, gate: () => { lines.flush(); return null; } });
lines.flush();
const c = process.cpuUsage(cpuAll);
{
  const per = [...otherThreads()].sort((x, y) => y[1] - x[1]);
  const cpus = threaded?.threadCpu ?? [];
  console.log(`whole run, CPU s: JS thread ${((jsThreadMicros() ?? NaN) / 1e6).toFixed(2)}, analysis threads ${cpus.map((v) => v?.toFixed(2) ?? '?').join(' ')}, other threads ${per.filter(([, v]) => v >= 5e4).map(([id, v]) => `${id.split(' ').slice(1).join(' ')} ${(v / 1e6).toFixed(2)}`).join(', ')}`);
}
profile(false);
if (steadyPackets === 0) console.log(`steady (past ${STEADY} s of packet time): none (the packets last ${(report.capture.packets / rate).toFixed(1)} s at this rate: more --packets or a lower --rate)`);
else console.log(`steady (past ${STEADY} s of packet time): ${(steadyCpu / steadyPackets).toFixed(2)} µs/pkt, JS thread ${(steadyJs / steadyPackets).toFixed(2)} µs/pkt${threads > 1 ? `, busiest other thread ${(steadyOther / steadyPackets).toFixed(2)} µs/pkt` : ''}`);
console.log(`all: ${report.capture.packets} packets, ${report.summary.connections} connections, ${((c.user + c.system) / report.capture.packets).toFixed(2)} µs/pkt (CPU ${((c.user + c.system) / 1e6).toFixed(2)} s incl. the final report)`);
