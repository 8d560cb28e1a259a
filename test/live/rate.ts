/**
 * Measures the highest packet rate `teardown live` keeps up with on loopback without drops (run as root):
 *
 *   node --import tsx test/live/rate.ts stream 20000 40000 60000   # small writes, writes/s per step
 *   node --import tsx test/live/rate.ts conns 1000 2000 4000        # short connections/s per step
 *
 * Each step: a fresh network namespace, `teardown live -i lo -f tcp` in it, test/live/load.ts for SECONDS (env,
 * default 5), SIGINT. cap exposes no libpcap drop counter, so drops = packets the namespace's lo transmitted
 * (/sys/class/net/lo/statistics/tx_packets; only this test's traffic exists there) − packets teardown analyzed.
 * Env: SECONDS_PER_STEP (5), STREAMS (4), LIVE_ARGS (extra live flags, e.g. '--buffer-size 512'), LIVE_PREFIX
 * (e.g. 'nice -n -15' on a machine shared with other work).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createNetns, exitWithin, MAIN, ndjson, netnsUnavailable, nodeArgs, start } from './netns.js';

const why = netnsUnavailable();
if (why !== null) {
  process.stderr.write(`rate: ${why}\n`);
  process.exit(2);
}
const [mode, ...rates] = process.argv.slice(2);
const seconds = Number(process.env.SECONDS_PER_STEP ?? 5);
const streams = process.env.STREAMS ?? '4';
console.log(`mode ${mode}, ${seconds} s per step${mode === 'stream' ? `, ${streams} streams` : ''}`);
console.log('offered/s  wire pkts  captured  drops  wire pkt/s  teardown CPU s  µs/pkt');
for (const r of rates) {
  const ns = createNetns();
  try {
    const txPackets = (): number => Number(spawnSync('ip', ['netns', 'exec', ns.name, 'cat', '/sys/class/net/lo/statistics/tx_packets'], { encoding: 'utf8' }).stdout.trim());
    // LIVE_PREFIX='nice -n -15' runs teardown ahead of other work on a shared machine (exec'd: same pid).
    const prefix = process.env.LIVE_PREFIX?.split(' ').filter(Boolean) ?? [];
    const live = start(ns.exec([...prefix, ...nodeArgs(MAIN, ['live', '-i', 'lo', '-f', 'tcp', ...(process.env.LIVE_ARGS?.split(' ').filter(Boolean) ?? [])])]));
    await live.waitFor('stderr', /capturing on lo/, 15_000);
    const before = txPackets();
    const load = spawnSync(ns.exec(nodeArgs('test/live/load.ts', [mode as string, r, String(seconds), streams]))[0] as string,
      ns.exec(nodeArgs('test/live/load.ts', [mode as string, r, String(seconds), streams])).slice(1), { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    const after = txPackets();
    const did = JSON.parse(load.stdout.trim() || '{}') as { elapsed?: number; done?: number };
    await new Promise((res) => setTimeout(res, 1500)); // let live drain its buffer
    // utime + stime of the live process (it is node itself: ip netns exec execs it), clock ticks of 10 ms.
    const stat = readFileSync(`/proc/${live.child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const cpu = ((Number(stat[11]) + Number(stat[12])) / 100).toFixed(2);
    live.kill('SIGINT');
    await exitWithin(live, 30_000);
    const sum = ndjson(live.stdout).at(-1);
    const wire = after - before;
    const captured = Number(sum?.capture?.packets ?? NaN);
    const pps = wire / (did.elapsed ?? seconds);
    console.log(`${r.padStart(9)}  ${String(wire).padStart(9)}  ${String(captured).padStart(8)}  ${String(wire - captured).padStart(5)}  ${pps.toFixed(0).padStart(10)}  ${cpu.padStart(14)}  ${(Number(cpu) * 1e6 / captured).toFixed(1).padStart(6)}`);
  } finally {
    ns.delete();
  }
}
