/**
 * Live capture that cannot start: one line on stderr, exit code 2. And the pieces of src/capture/live.ts that need
 * no capture: the missing-cap message, link type names, the arrival clock.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ArrivalClock, INSTALL_HINT, LiveCaptureError, linkTypeFromCap, loadCap, openLive } from '../../src/capture/live.js';
import { createNetns, MAIN, netnsUnavailable, nodeArgs, ROOT } from './netns.js';

const skip = netnsUnavailable();

function run(argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const [cmd, ...rest] = argv;
  const r = spawnSync(cmd as string, rest, { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  return lines[0]!;
}

test('without the cap package: one line saying what to install and to rebuild', () => {
  assert.throws(() => loadCap('td-no-such-capture-module'), (e: unknown) => {
    assert.ok(e instanceof LiveCaptureError);
    assert.equal(e.reason, 'no-cap');
    assert.match(e.message, /apt-get install libpcap-dev/);
    assert.match(e.message, /npm rebuild teardown-pcap cap/);
    assert.match(e.message, /not installed/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  assert.throws(() => openLive({ device: 'lo', moduleName: 'td-no-such-capture-module' }), /libpcap-dev/);
  assert.match(INSTALL_HINT, /^apt-get install libpcap-dev, then .*npm rebuild teardown-pcap cap$/);
});

test('cap link type names map to LINKTYPE numbers', () => {
  assert.equal(linkTypeFromCap('ETHERNET'), 1);
  assert.equal(linkTypeFromCap('NULL'), 0);
  assert.equal(linkTypeFromCap('LINKTYPE_LINUX_SLL'), 113);
  assert.equal(linkTypeFromCap('RAW'), 101);
  assert.equal(linkTypeFromCap('Unknown linktype 276'), 276);
  assert.equal(linkTypeFromCap('something else'), -1);
});

test('the arrival clock: anchored to wall time, monotonic, microsecond resolution, no carry errors', () => {
  const c = new ArrivalClock(1_700_000_000_999.5, 1_000n);
  c.stamp(1_000n);
  assert.deepEqual([c.sec, c.nsec], [1_700_000_000, 999_500_000]);
  c.stamp(1_000n + 500_123_456n); // crosses the second: 0.9995 + 0.500123456
  assert.deepEqual([c.sec, c.nsec], [1_700_000_001, 499_623_000]);
  c.stamp(1_000n + 86_400n * 1_000_000_000n + 1_999n); // a day later, ns digits truncated to µs
  assert.deepEqual([c.sec, c.nsec], [1_700_086_400, 999_501_000]);
  const real = new ArrivalClock();
  const a = real.now();
  const b = real.now();
  assert.ok(b >= a);
  assert.ok(Math.abs(a - Date.now() / 1000) < 1);
  assert.equal(real.nsec % 1000, 0);
});

test('live errors: no such interface, bad BPF filter, no permission — one line each, exit 2', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const ns = createNetns();
  try {
    const noDev = run(ns.exec(nodeArgs(MAIN, ['live', '-i', 'td-nosuch0'])));
    assert.equal(noDev.code, 2);
    assert.match(oneLine(noDev.stderr), /^teardown: td-nosuch0: no such interface \(teardown interfaces lists them: .*lo/);
    assert.equal(noDev.stdout, '');

    const badFilter = run(ns.exec(nodeArgs(MAIN, ['live', '-i', 'lo', '-f', 'tcp porr 80'])));
    assert.equal(badFilter.code, 2);
    assert.match(oneLine(badFilter.stderr), /^teardown: bad capture filter 'tcp porr 80': .*syntax error/);
    assert.equal(badFilter.stdout, '');

    const setpriv = spawnSync('setpriv', ['--version']);
    if (setpriv.error === undefined) {
      // Root without CAP_NET_RAW/CAP_NET_ADMIN in its bounding set cannot open a packet socket.
      const noPerm = run(ns.exec(['setpriv', '--bounding-set', '-net_raw,-net_admin', ...nodeArgs(MAIN, ['live', '-i', 'lo'])]));
      assert.equal(noPerm.code, 2, noPerm.stderr);
      assert.match(oneLine(noPerm.stderr), /^teardown: lo: no permission to capture \(.*\): run as root, or .*setcap cap_net_raw,cap_net_admin=eip \$\(readlink -f \$\(which node\)\)$/);
    }

    const usage = run(ns.exec(nodeArgs(MAIN, ['live', '-i', 'lo', '--count', '0'])));
    assert.equal(usage.code, 2);
    assert.match(oneLine(usage.stderr), /--count takes a whole number above 0/);

    const list = run(ns.exec(nodeArgs(MAIN, ['interfaces'])));
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^lo +127\.0\.0\.1, ::1 +\(loopback/m);
    const json = run(ns.exec(nodeArgs(MAIN, ['interfaces', '--json'])));
    const devs = JSON.parse(json.stdout) as { name: string }[];
    assert.ok(devs.some((d) => d.name === 'lo'));
  } finally {
    ns.delete();
  }
});
