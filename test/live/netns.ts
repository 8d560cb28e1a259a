/**
 * Helpers for the live-capture tests: a private network namespace (its own loopback, so captured traffic is only
 * the test's own and never leaves it) and the teardown CLI run inside it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = 'src/cli/main.ts';

/** Why the namespace tests cannot run here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (network namespaces and packet capture): run as root, as CI does';
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error !== undefined || ip.status !== 0) return `ip netns is unavailable (${ip.error?.message ?? ip.stderr.trim()}): apt-get install iproute2`;
  return capUnavailable();
}

/** Why cap cannot be loaded, or null. */
export function capUnavailable(): string | null {
  try {
    createRequire(import.meta.url)('cap');
    return null;
  } catch (e) {
    return `the cap addon does not load (${(e as Error).message.split('\n')[0]}): apt-get install libpcap-dev, then npm rebuild cap`;
  }
}

export interface Netns {
  name: string;
  /** argv prefix that runs a command inside the namespace. */
  exec(args: string[]): string[];
  delete(): void;
}

let seq = 0;

/** Creates `td-live-<pid>-<n>` with its loopback up. Delete it in a finally. */
export function createNetns(): Netns {
  const name = `td-live-${process.pid}-${++seq}`;
  const run = (args: string[]): void => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || r.error?.message}`);
  };
  run(['netns', 'add', name]);
  try {
    run(['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (e) {
    spawnSync('ip', ['netns', 'delete', name]);
    throw e;
  }
  return {
    name,
    exec: (args) => ['ip', 'netns', 'exec', name, ...args],
    delete: () => {
      spawnSync('ip', ['netns', 'delete', name]);
    },
  };
}

/** node with tsx, so TypeScript sources run directly (ip netns exec execs it: signals reach node itself). */
export function nodeArgs(script: string, args: string[]): string[] {
  return [process.execPath, '--import', 'tsx', script, ...args];
}

export interface Running {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
  /** Resolves when `re` matches the output so far (rejects after `ms`). */
  waitFor(stream: 'stdout' | 'stderr', re: RegExp, ms: number): Promise<void>;
  kill(sig?: NodeJS.Signals): void;
}

/** `stdout`: a file descriptor to write standard output to instead of collecting it (r.stdout stays empty). */
export function start(argv: string[], opts: { stdin?: 'pipe' | 'ignore'; stdout?: number } = {}): Running {
  const [cmd, ...rest] = argv;
  const child = spawn(cmd as string, rest, { cwd: ROOT, stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'pipe', 'pipe'] });
  const waiters: (() => void)[] = [];
  const r: Running = {
    child, stdout: '', stderr: '',
    exited: new Promise((resolve) => child.on('close', (code) => resolve(code))),
    waitFor(stream, re, ms) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (re.test(r[stream])) { resolve(); return true; }
          return false;
        };
        if (check()) return;
        const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${re} on ${stream}; stdout:\n${r.stdout}\nstderr:\n${r.stderr}`)), ms);
        const w = (): void => { if (check()) clearTimeout(timer); else waiters.push(w); };
        waiters.push(w);
        void child.once('close', () => { if (!check()) { clearTimeout(timer); reject(new Error(`exited while waiting for ${re} on ${stream}; stdout:\n${r.stdout}\nstderr:\n${r.stderr}`)); } });
      });
    },
    kill(sig = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
  };
  const poke = (): void => { for (const w of waiters.splice(0)) w(); };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { r.stdout += d; poke(); });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { r.stderr += d; poke(); });
  return r;
}

/** Waits for exit, killing the process after `ms`. */
export async function exitWithin(r: Running, ms: number): Promise<number | null> {
  const timer = setTimeout(() => r.kill('SIGKILL'), ms);
  try {
    return await r.exited;
  } finally {
    clearTimeout(timer);
  }
}

export function ndjson(text: string): Record<string, any>[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, any>);
}

/** The real capture tcpreplay loops in the drop tests (Linux stack on a namespace loopback, Ethernet framing). */
const REPLAY = fileURLToPath(new URL('../../fixtures/tw-reuse-lower-isn.pcap', import.meta.url));

/** A veth pair td0 <-> td1 inside the namespace, both up, IPv6 off (no neighbour discovery noise). */
export function vethPair(ns: Netns): void {
  for (const args of [
    ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'], ['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1'],
    ['ip', 'link', 'add', 'td0', 'type', 'veth', 'peer', 'name', 'td1'],
    ['ip', 'link', 'set', 'td0', 'up'], ['ip', 'link', 'set', 'td1', 'up'],
  ]) {
    const [cmd, ...rest] = ns.exec(args);
    const r = spawnSync(cmd!, rest, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  }
}

/** Replays `count` packets of the fixture (looped) at `pps` onto td0; returns how many tcpreplay sent. */
export function replay(ns: Netns, pps: number, count: number): number {
  return replayRated(ns, pps, count).sent;
}

/** replay(), also returning the rate tcpreplay achieved (packets/s). */
export function replayRated(ns: Netns, pps: number, count: number): { sent: number; rated: number } {
  const [cmd, ...rest] = ns.exec(['tcpreplay', '-q', '-i', 'td0', `--pps=${pps}`, `--limit=${count}`, '--loop=0', REPLAY]);
  const r = spawnSync(cmd!, rest, { encoding: 'utf8', timeout: Math.ceil(count / pps) * 5000 + 30_000 });
  const m = /Actual: (\d+) packets/.exec(r.stdout + r.stderr);
  if (m === null) throw new Error(`tcpreplay: ${r.stdout}${r.stderr.replace(/^.*(Warning|snaplen).*\n/gm, '')}`);
  const rated = /Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/.exec(r.stdout + r.stderr);
  return { sent: Number(m[1]), rated: rated === null ? NaN : Number(rated[1]) };
}

