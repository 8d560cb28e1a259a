/**
 * Measures the live drop accounting under load (run as root): for each rate, a fresh namespace with a veth pair,
 * `teardown live -i td1 -f tcp` on one end, tcpreplay replaying a real capture (looped) onto the other for SECONDS
 * (env, default 5) at that many packets/s, then SIGINT; prints what tcpreplay sent and what teardown counted.
 *
 *   node --import tsx test/live/replay-rate.ts 50000 100000 200000
 *
 * Env: SECONDS (5), LIVE_ARGS (extra live flags, e.g. '--ring-size 8').
 */
import { createNetns, exitWithin, MAIN, ndjson, netnsUnavailable, nodeArgs, replayRated, start, vethPair } from './netns.js';


const why = netnsUnavailable();
if (why !== null) {
  process.stderr.write(`replay-rate: ${why}\n`);
  process.exit(2);
}
const seconds = Number(process.env.SECONDS ?? 5);
console.log(`${seconds} s per step${process.env.LIVE_ARGS ? `, live ${process.env.LIVE_ARGS}` : ''}`);
console.log('    pps  achieved     sent  received  analyzed  kernel     ring  total-drops  balance');
for (const arg of process.argv.slice(2)) {
  const pps = Number(arg);
  const ns = createNetns();
  try {
    vethPair(ns);
    const live = start(ns.exec(nodeArgs(MAIN, ['live', '-i', 'td1', '-f', 'tcp', ...(process.env.LIVE_ARGS?.split(' ').filter(Boolean) ?? [])])));
    await live.waitFor('stderr', /capturing on td1/, 15_000);
    const { sent, rated } = replayRated(ns, pps, pps * seconds);
    await new Promise((r) => setTimeout(r, 1500));
    live.kill('SIGINT');
    await exitWithin(live, 60_000);
    const s = ndjson(live.stdout).at(-1)!;
    const d = s.live.dropCounters;
    const analyzed = s.capture.tcpPackets as number;
    const ok = d.received === d.kernel + d.delivered && d.delivered === analyzed + d.ring;
    console.log(`${String(pps).padStart(7)}  ${rated.toFixed(0).padStart(8)}  ${String(sent).padStart(7)}  ${String(d.received).padStart(8)}  ${String(analyzed).padStart(8)}  ${String(d.kernel).padStart(6)}  ${String(d.ring).padStart(7)}  ${String(s.capture.drops).padStart(11)}  ${ok ? 'exact' : 'OFF'}`);
  } finally {
    ns.delete();
  }
}
