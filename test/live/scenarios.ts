/**
 * Client/server scenarios for the live-capture tests. Runs INSIDE a private network namespace
 * (`ip netns exec NS node --import tsx test/live/scenarios.ts [names…]`): every socket is on 127.0.0.1 of that
 * namespace. Prints one JSON line per scenario ({"scenario", "server", "clientPorts"}), then "@@done", then keeps
 * its sockets open (the stuck half-close must stay stuck) until it is killed or stdin closes.
 *
 *   stuck  server :7101 reads the client's data and FIN but never closes (CLOSE_WAIT forever)
 *   pause  no traffic until a line arrives on stdin (the test sends it once teardown announced the stuck half-close)
 *   abort  client :7102 aborts with SO_LINGER{1,0} (socket.resetAndDestroy(): RST, no FIN)
 *   reuse  server :7103 closes first (it holds TIME_WAIT); the client reconnects from the same local port
 *   bulk   client sends 1 MiB to :7104 in large writes (segments bigger than the 65535-byte snaplen), both close
 */
import net from 'node:net';
import { once } from 'node:events';

const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const keep: net.Socket[] = [];
const servers: net.Server[] = [];

function report(scenario: string, server: number, clientPorts: number[]): void {
  process.stdout.write(JSON.stringify({ scenario, server: `${HOST}:${server}`, clientPorts }) + '\n');
}

async function listen(port: number, onConn: (s: net.Socket) => void, opts: net.ServerOpts = {}): Promise<net.Server> {
  const srv = net.createServer(opts, onConn);
  srv.listen(port, HOST);
  await once(srv, 'listening');
  servers.push(srv);
  return srv;
}

async function connect(port: number, opts: { localPort?: number; allowHalfOpen?: boolean } = {}): Promise<net.Socket> {
  const s = net.connect({ port, host: HOST, localAddress: HOST, ...opts });
  await once(s, 'connect');
  return s;
}

async function stuck(): Promise<void> {
  let gotEnd!: () => void;
  const ended = new Promise<void>((r) => (gotEnd = r));
  await listen(7101, (s) => {
    keep.push(s);
    s.on('data', () => {});
    s.on('end', () => gotEnd()); // read the FIN; never end() or destroy(): CLOSE_WAIT
  }, { allowHalfOpen: true });
  const c = await connect(7101, { allowHalfOpen: true });
  keep.push(c);
  c.on('data', () => {});
  c.end('request');
  await ended;
  report('stuck', 7101, [c.localPort ?? 0]);
}

async function pause(): Promise<void> {
  process.stdout.write('@@paused\n');
  process.stdin.setEncoding('utf8');
  await new Promise<void>((resolve) => {
    const onData = (d: string): void => { if (d.includes('\n')) { process.stdin.removeListener('data', onData); process.stdin.pause(); resolve(); } };
    process.stdin.on('data', onData);
  });
}

async function abort(): Promise<void> {
  let got!: () => void;
  const read = new Promise<void>((r) => (got = r));
  await listen(7102, (s) => {
    s.on('data', () => got());
    s.on('error', () => {});
  });
  const c = await connect(7102);
  c.on('error', () => {});
  c.write('hello');
  await read;
  await sleep(50);
  const port = c.localPort ?? 0;
  c.resetAndDestroy();
  await sleep(100);
  report('abort', 7102, [port]);
}

async function reuse(): Promise<void> {
  await listen(7103, (s) => {
    s.on('data', () => {});
    s.on('error', () => {});
    s.end('bye'); // the server closes first: it will hold TIME_WAIT
  });
  const c1 = await connect(7103);
  const port = c1.localPort ?? 0;
  c1.on('data', () => {});
  await once(c1, 'end');
  c1.end();
  await once(c1, 'close');
  await sleep(100);
  const c2 = await connect(7103, { localPort: port }); // SYN onto the server's TIME_WAIT tuple
  c2.on('data', () => {});
  await once(c2, 'end');
  c2.end();
  await once(c2, 'close');
  report('reuse', 7103, [port]);
}

async function bulk(): Promise<void> {
  let total = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  await listen(7104, (s) => {
    s.on('data', (d: Buffer) => { total += d.length; });
    s.on('end', () => { s.end(); done(); });
  });
  const c = await connect(7104);
  c.on('data', () => {});
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  for (let i = 0; i < 4; i++) c.write(chunk);
  c.end();
  await all;
  await once(c, 'close');
  report('bulk', 7104, [c.localPort ?? 0]);
  if (total !== 4 * chunk.length) throw new Error(`bulk: server read ${total} bytes`);
}

const ALL: Record<string, () => Promise<void>> = { stuck, pause, abort, reuse, bulk };
const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(ALL);
for (const n of names) {
  const f = ALL[n];
  if (f === undefined) throw new Error(`unknown scenario ${n}`);
  await f();
}
process.stdout.write('@@done\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
