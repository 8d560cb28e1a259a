/**
 * Paced TCP load on 127.0.0.1 for measuring `teardown live` (run INSIDE a private network namespace by rate.ts):
 *
 *   node --import tsx test/live/load.ts stream <writes/s> <seconds> [streams]   small (64-byte) TCP_NODELAY writes
 *   node --import tsx test/live/load.ts conns  <connections/s> <seconds>         short connections: SYN…data…FIN
 *
 * Pacing is per millisecond. Prints one JSON line: what it did. Bounded in count and time; stops by itself.
 */
import net from 'node:net';
import { once } from 'node:events';

const [mode, rateArg, secondsArg, streamsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
if ((mode !== 'stream' && mode !== 'conns') || !(rate > 0) || !(seconds > 0 && seconds <= 60)) {
  process.stderr.write('usage: load.ts stream|conns <rate> <seconds (≤ 60)> [streams]\n');
  process.exit(2);
}
const HOST = '127.0.0.1';
const PORT = 7201;

const server = net.createServer((s) => {
  s.setNoDelay(true);
  s.on('data', () => {});
  s.on('end', () => s.end());
  s.on('error', () => {});
});
server.listen({ port: PORT, host: HOST, backlog: 4096 });
await once(server, 'listening');

const t0 = performance.now();
let done = 0;
let failed = 0;

if (mode === 'stream') {
  const n = Math.max(1, Number(streamsArg ?? 1));
  const socks: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ port: PORT, host: HOST, noDelay: true });
    await once(s, 'connect');
    s.on('data', () => {});
    socks.push(s);
  }
  const chunk = Buffer.alloc(64, 0x62);
  await new Promise<void>((resolve) => {
    const start = performance.now();
    const timer = setInterval(() => {
      const elapsed = (performance.now() - start) / 1000;
      const due = Math.min(rate * seconds, Math.floor(rate * elapsed));
      while (done < due) socks[done++ % n]!.write(chunk);
      if (elapsed >= seconds) { clearInterval(timer); resolve(); }
    }, 1);
  });
  for (const s of socks) s.end();
  await Promise.all(socks.map((s) => once(s, 'close')));
} else {
  let open = 0;
  await new Promise<void>((resolve) => {
    const start = performance.now();
    let started = 0;
    setTimeout(resolve, (seconds + 10) * 1000).unref(); // bounded even if some connection hangs
    const timer = setInterval(() => {
      const elapsed = (performance.now() - start) / 1000;
      const due = Math.min(rate * seconds, Math.floor(rate * elapsed));
      while (started < due) {
        started++;
        open++;
        const s = net.connect({ port: PORT, host: HOST, noDelay: true });
        s.on('connect', () => s.end('GET / HTTP/1.0\r\n\r\n'));
        s.on('data', () => {});
        s.on('error', () => { failed++; });
        s.on('close', () => { open--; done++; if (started >= rate * seconds && open === 0) resolve(); });
      }
      if (started >= rate * seconds) clearInterval(timer);
    }, 1);
  });
}
const elapsed = (performance.now() - t0) / 1000;
server.close();
process.stdout.write(JSON.stringify({ mode, rate, seconds, done, failed, elapsed: Math.round(elapsed * 1000) / 1000 }) + '\n');
process.exit(0);
