/**
 * Screens of a capture that spans years (two real captures, the second moved 1108 days later — a long-running
 * tcpdump ring file looks like this): times carry their date, offsets use days and a clock, no column is cut.
 * Also: a one-connection capture says "1 connection", and `3` before any connection is opened says why nothing
 * happened.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { AnalysisStore } from '../../src/ui/store.js';
import * as common from '../../src/ui/views/common.js';
import { readFrames, shiftTime, toPcap } from '../helpers/rewrite.js';
import { finishedStore, fixture, KEY, renderUi } from './helpers.js';
import type { Ui } from './helpers.js';

const FIN = fixture('fin-3way.pcap');
const RST = fixture('rst-linger0.pcap');
const skip = FIN.skip || RST.skip;
const LATER = 95_798_876n; // seconds: 1108 days, 18 h and some

const dir = mkdtempSync(join(tmpdir(), 'teardown-long-'));
const open: Ui[] = [];
after(() => {
  for (const u of open) u.unmount();
  rmSync(dir, { recursive: true, force: true });
});

async function longStore(): Promise<{ store: AnalysisStore; first: number; last: number; findingTime: number }> {
  const frames = [...await readFrames(FIN.path), ...shiftTime(await readFrames(RST.path), LATER * 1_000_000_000n)];
  frames.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
  const path = join(dir, 'years.pcap');
  writeFileSync(path, toPcap(frames));
  const { report } = await analyzeFile(path);
  assert.equal(report.findings.length, 1, 'the reset of the later capture is a finding');
  const store = new AnalysisStore(path);
  store.finish(report);
  return { store, first: report.capture.firstTime!, last: report.capture.lastTime!, findingTime: report.findings[0]!.time };
}

async function ui(store: AnalysisStore, columns = 80, rows = 24): Promise<Ui> {
  const u = await renderUi(store, { columns, rows });
  open.push(u);
  return u;
}

test('offsets: seconds under 1000 s, h:mm:ss.mmm under a day, days and a clock beyond', () => {
  assert.equal(common.offset(12.3456789, 0, 999), '+12.345679');
  assert.equal(common.offset(3723.4567, 0, 5000), '+1:02:03.457');
  assert.equal(common.offset(59.9996, 0, 5000), '+0:01:00.000');
  assert.equal(common.offset(95_798_876.379, 0, 95_798_900), '+1108d 18:47:56');
  assert.equal(common.timeSpan(0, 3600), '1970-01-01 00:00:00.000 → 01:00:00.000 UTC (1.0 h)');
  assert.equal(common.timeSpan(0, 86400 * 3), '1970-01-01 00:00:00.000 → 1970-01-04 00:00:00.000 UTC (3.0 d)');
});

test('overview of a capture spanning years: the end time carries its date', { skip }, async () => {
  const { store, last } = await longStore();
  const u = await ui(store);
  const end = new Date(Math.floor(last) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  assert.match(u.frame(), new RegExp(`→ ${end}\\.\\d{3} UTC \\(1108\\.8 d\\)`));
});

test('findings list of a capture spanning years: the time column shows days and a clock, uncut', { skip }, async () => {
  const { store, first, last, findingTime } = await longStore();
  const u = await ui(store);
  await u.press('2');
  const want = common.offset(findingTime, first, last - first);
  assert.match(want, /^\+1108d \d\d:\d\d:\d\d$/);
  const row = u.lines().find((l) => l.startsWith('▸ '));
  assert.ok(row?.includes(` ${want} `), `the selected row shows ${want}: ${row}`);
  assert.match(u.frame(), /sev +time +kind/);
  await u.press(KEY.enter);
  assert.ok(u.frame().includes(`at ${want}`), u.frame());
});

test('timeline: the resets line shows its figures whole', { skip }, async () => {
  const { store } = await longStore();
  const u = await ui(store);
  await u.press('4');
  const line = u.lines().find((l) => l.startsWith('resets'));
  assert.match(line ?? '', /^resets +peak 1 in one column, 1 in all  accepted/, u.frame());
});

test('one connection is "1 connection"; 3 before any connection is opened says how to open one', { skip: RST.skip }, async () => {
  const u = await ui(await finishedStore(RST.path));
  assert.match(u.frame(), /· 1 connection\b(?!s)/);
  assert.ok(!u.lines()[0]!.includes('…'), `the tab line fits 80 columns: ${u.lines()[0]}`);
  await u.press('3');
  const f = u.frame();
  assert.match(f, /CLOSE_WAIT pile-ups/, 'still on the overview');
  assert.ok(u.lines().at(-1)?.includes('no connection opened yet: open one from the findings list (2, then Enter)'), f);
  await u.press(KEY.down);
  assert.ok(!u.frame().includes('no connection opened yet'), 'the hint goes with the next key');
});

const SMTP = fixture('field/arkime/smtp-decrypted.pcap');

test('a real capture that runs over midnight (Arkime smtp-decrypted, 28 h): dated end, day offsets in the list', { skip: SMTP.skip }, async () => {
  const u = await ui(await finishedStore(SMTP.path));
  assert.ok(u.frame().includes('2024-12-05 07:53:04.602 → 2024-12-06 12:07:18.673 UTC (28.2 h)'), u.frame());
  await u.press('2');
  // Every finding of the capture has a row, its offset in days and a clock (the field corpus expectation of this
  // capture says which findings there are: three server-closed RSTs and one simultaneous close).
  const rows = u.lines().filter((l) => / (warn|info|error) +\+\d+d \d\d:\d\d:\d\d  /.test(l));
  assert.equal(rows.length, 4, u.frame());
  assert.ok(rows.some((l) => l.includes('+1d 04:14:14  rst-teardown')), u.frame());
});
