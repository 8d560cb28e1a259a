/**
 * Measures the highest packet rate `teardown live` keeps up with on a namespace's loopback without drops (run as
 * root):
 *
 *   node --import tsx test/live/rate.ts stream 20000 40000 60000   # small writes, writes/s per step
 *   node --import tsx test/live/rate.ts conns 1000 2000 4000        # short connections/s per step
 *   REPLAY=capture.pcap node --import tsx test/live/rate.ts replay 100000 200000   # packets/s per step
 *
 * Each step: a fresh network namespace, `teardown live -i lo -f tcp` in it (its NDJSON to a temporary file, read
 * once it stops: a reader that falls behind would hold the analysis back), then the load for SECONDS_PER_STEP, then
 * a wait until teardown is idle again, then SIGINT. stream and conns are test/live/load.ts (real sockets on the
 * namespace's 127.0.0.1; on a loaded 2-core machine it reaches ~100 k packets/s at most). replay is tcpreplay
 * sending a real IPv4 capture (REPLAY, e.g. the bench capture) onto the namespace's lo at exactly that rate, its
 * addresses first mapped into 127.0.0.0/8 and its destination MAC made foreign, so the namespace's stack drops the
 * frames after the capture saw them (no replies; nothing leaves the namespace). The load shares the machine's cores
 * with teardown: alone, tcpreplay at 200 k/s takes 0.75 to 1 core (its pacing loop, and the kernel's loopback delivery
 * with the copy into teardown's capture socket, counted as its system time), so on a 2-core machine it reaches a
 * lower wire rate when teardown keeps both cores busy (`wire pkt/s` says what it reached).
 *
 * Columns: wire = packets the namespace's lo carried during the step (tx_packets; only this test's traffic is
 * there); captured = packets teardown analyzed (without its end marker); drops = libpcap's and the ring's drop
 * counters (the summary's); lag = seconds teardown was still busy after the load ended (a backlog in the ring or
 * libpcap's buffer: more than a few tenths means it did not keep up, even when a step is too short to drop);
 * peak RSS = teardown's VmHWM before it stops (the final report is not in it).
 * CPU = teardown's CPU seconds from the load's start until it was idle: all threads, its JavaScript (main) thread,
 * its capture thread; per packet in µs (all threads, and the JavaScript thread). teardown runs with node's flags as
 * bin/teardown.js sets them (from src through tsx).
 *
 * Sustained means a step longer than the closed linger (CLOSED_LINGER, 5 s of capture time, src/analyze/session.ts):
 * for its first 5 s a capture only builds state (no connection has lingered long enough to be judged); from then on
 * it also judges and writes as many connections per second as close, about 1.8 times the JavaScript time per packet
 * on the bench capture (bench/live-cpu.ts shows it window by window). A 5 s step ends before that and its backlog
 * of judgements comes after the load, on the clock, unseen by `lag`: hence the default of 12 s (still within the
 * bench capture's 3.5 M packets at 250 k/s).
 *
 * Env: SECONDS_PER_STEP (12), STREAMS (4), LIVE_ARGS (extra live flags, e.g. '--buffer-size 512'), LIVE_PREFIX
 * (e.g. 'nice -n -15' on a machine shared with other work), LOAD_PREFIX (the same for the load), LIVE_NODE_ARGS
 * (node flags for teardown, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'), REPLAY (replay mode).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, exitWithin, MAIN, ndjson, netnsUnavailable, nodeArgs, ROOT, start } from './netns.js';

const why = netnsUnavailable();
if (why !== null) {
  process.stderr.write(`rate: ${why}\n`);
  process.exit(2);
}
const [mode, ...rates] = process.argv.slice(2);
if (mode !== 'stream' && mode !== 'conns' && mode !== 'replay') {
  process.stderr.write('usage: rate.ts stream|conns|replay <rate>...\n');
  process.exit(2);
}
const seconds = Number(process.env.SECONDS_PER_STEP ?? 12);
const streams = process.env.STREAMS ?? '4';
const words = (s: string | undefined): string[] => s?.split(' ').filter(Boolean) ?? [];
const tmp = mkdtempSync(join(tmpdir(), 'td-rate-'));

let replayFile: string | null = null;
if (mode === 'replay') {
  if (process.env.REPLAY === undefined) {
    process.stderr.write('rate: replay needs REPLAY=<an IPv4 pcap>, e.g. bench/data/tiled-3500k-s1.pcap\n');
    process.exit(2);
  }
  replayFile = join(tmp, 'replay.pcap');
  const r = spawnSync('tcprewrite', ['--pnat=0.0.0.0/0:127.0.0.0/8', '--enet-dmac=02:00:00:00:00:01', '-i', process.env.REPLAY, '-o', replayFile], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`rate: tcprewrite: ${r.error?.message ?? r.stderr.trim()}\n`);
    process.exit(2);
  }
}

/** CPU seconds (utime + stime; ticks of 10 ms) of a process or thread from its stat file. */
function cpuIn(stat: string): number {
  const f = readFileSync(stat, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}
/** CPU seconds of a process: all its threads, its main (JavaScript) thread, and the capture thread (td-capture). */
function cpuOf(pid: number): { all: number; js: number; capture: number } {
  let capture = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'td-capture') capture += cpuIn(`/proc/${pid}/task/${tid}/stat`);
    } catch { /* the thread ended */ }
  }
  return { all: cpuIn(`/proc/${pid}/stat`), js: cpuIn(`/proc/${pid}/task/${pid}/stat`), capture };
}

/** node's flags as bin/teardown.js starts the CLI (its shebang's, and the heap limit it adds): measure what users run. */
function binFlags(): string[] {
  const bin = readFileSync(join(ROOT, 'bin/teardown.js'), 'utf8');
  const shebang = /^#!.*?\bnode\b(.*)$/m.exec(bin)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
  const old = /OLD_SPACE_MB\s*=\s*(\d+)/.exec(bin)?.[1];
  return [...shebang, ...(old ? [`--max-old-space-size=${old}`] : [])];
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a command to its end without blocking this event loop; its stdout. */
function run(argv: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const [cmd, ...rest] = argv;
    const child = spawn(cmd as string, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

console.log(`mode ${mode}, ${seconds} s per step${mode === 'stream' ? `, ${streams} streams` : ''}${process.env.LIVE_ARGS ? `, live ${process.env.LIVE_ARGS}` : ''}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log('offered/s  wire pkts  captured  drops  wire pkt/s  lag s  CPU s (JS, capture)  µs/pkt (JS)  peak RSS MiB');
try {
  for (const r of rates) {
    const ns = createNetns();
    const outFile = join(tmp, 'live.ndjson');
    const fd = openSync(outFile, 'w');
    try {
      const txPackets = (): number => Number(spawnSync('ip', ['netns', 'exec', ns.name, 'cat', '/sys/class/net/lo/statistics/tx_packets'], { encoding: 'utf8' }).stdout.trim());
      // LIVE_PREFIX='nice -n -15' runs teardown ahead of other work on a shared machine (exec'd: same pid).
      const live = start(ns.exec([...words(process.env.LIVE_PREFIX), process.execPath, ...binFlags(), ...words(process.env.LIVE_NODE_ARGS), ...nodeArgs(MAIN, ['live', '-i', 'lo', '-f', 'tcp', ...words(process.env.LIVE_ARGS)]).slice(1)]), { stdout: fd });
      await live.waitFor('stderr', /capturing on lo/, 15_000);
      const pid = live.child.pid!;
      const before = txPackets();
      const cpu0 = cpuOf(pid);
      const load = mode === 'replay'
        ? ['tcpreplay', '-q', '-i', 'lo', `--pps=${r}`, `--limit=${Number(r) * seconds}`, replayFile!]
        : nodeArgs('test/live/load.ts', [mode, r, String(seconds), streams]);
      const t0 = performance.now();
      const loadOut = await run(ns.exec([...words(process.env.LOAD_PREFIX), ...load]), (seconds + 60) * 1000);
      const loadEnd = performance.now();
      const after = txPackets();
      // Busy until its CPU stops moving (two 10 ms ticks or less in 200 ms), at most 60 s.
      let last = cpuOf(pid);
      let idleAt = performance.now();
      for (let waited = 0; waited < 60_000; waited += 200) {
        await sleep(200);
        const now = cpuOf(pid);
        if (now.all - last.all <= 0.02) break;
        last = now;
        idleAt = performance.now();
      }
      const cpu = last.all - cpu0.all;
      const js = last.js - cpu0.js;
      const capture = last.capture - cpu0.capture;
      const peak = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
      live.kill('SIGINT');
      await exitWithin(live, 60_000);
      const sum = ndjson(readFileSync(outFile, 'utf8')).at(-1);
      const wire = after - before;
      const captured = Number(sum?.capture?.packets ?? NaN) - 1; // the end marker is not a captured packet
      const drops = Number(sum?.capture?.drops ?? NaN);
      let elapsed = (loadEnd - t0) / 1000;
      if (mode !== 'replay') elapsed = (JSON.parse(loadOut.trim().split('\n').at(-1) || '{}') as { elapsed?: number }).elapsed ?? elapsed;
      const lag = Math.max(0, (idleAt - loadEnd) / 1000);
      const lost = wire - captured;
      console.log(`${r.padStart(9)}  ${String(wire).padStart(9)}  ${String(captured).padStart(8)}  ${String(drops === lost ? drops : `${drops}/${lost}`).padStart(5)}  ${(wire / elapsed).toFixed(0).padStart(10)}  ${lag.toFixed(1).padStart(5)}  ${`${cpu.toFixed(2)} (${js.toFixed(2)}, ${capture.toFixed(2)})`.padStart(19)}  ${`${(cpu * 1e6 / captured).toFixed(2)} (${(js * 1e6 / captured).toFixed(2)})`.padStart(12)}  ${peak.toFixed(0).padStart(12)}`);
    } finally {
      closeSync(fd);
      ns.delete();
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
