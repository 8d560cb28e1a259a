/**
 * The UI over a report merged from result folders (`teardown report DIR...` on a terminal): the same views, the
 * header and overview say where the report comes from, and a connection whose ladder the folder did not keep says
 * so instead of drawing an empty ladder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/results/duckdb.js';
import { formatsText, type MergedReport } from '../../src/results/merge.js';
import { AnalysisStore } from '../../src/ui/store.js';
import { analyzeTo, reportOf } from '../results/util.js';
import { KEY, renderUi } from './helpers.js';
import type { Ui } from './helpers.js';
import { endpointText } from '../../src/model/endpoint.js';

let db: Db;
let tmp: string;
let merged: MergedReport;
const open: Ui[] = [];
before(async () => {
  db = await openDb('test');
  tmp = mkdtempSync(join(tmpdir(), 'teardown-ui-merged-'));
  await analyzeTo(db, 'fixtures/tw-reuse-lower-isn.pcap', join(tmp, 'a'), { label: 'lb-1' });
  await analyzeTo(db, 'fixtures/fin-client-first.pcapng', join(tmp, 'b'), { label: 'api-1' });
  merged = await reportOf(db, [join(tmp, 'a'), join(tmp, 'b')]);
});
after(() => { for (const u of open) u.unmount(); db.close(); rmSync(tmp, { recursive: true, force: true }); });

function store(laddersWithFindingsOnly = true): AnalysisStore {
  const s = new AnalysisStore(merged.capture.path);
  s.finish(merged, { folders: 2, captures: merged.captures.length, labels: merged.labels.map((l) => l.label), formats: formatsText(merged.captures), laddersWithFindingsOnly });
  return s;
}

async function ui(s: AnalysisStore): Promise<Ui> {
  const u = await renderUi(s, { columns: 110, rows: 40 });
  open.push(u);
  return u;
}

test('overview of merged folders: where it comes from, the formats of each, the counts of the merged report', async () => {
  const u = await ui(store());
  const f = u.frame();
  assert.match(f, /^ teardown │ 1 Overview │ 2 Findings 1 │.*merged from 2 result folders/m);
  assert.match(f, /2 captures +mixed: 1 pcap, 1 pcapng · Ethernet/, f);
  assert.match(f, /merged from 2 result folders · 2 captures · 2 labels: /, f);
  assert.ok(f.includes(`${merged.capture.packets} packets`), f);
  assert.ok(f.includes(`${merged.summary.connections} connections`), f);
  assert.match(f, /time-wait-reuse +1 /);
});

test('a finding opened from the merged list: its ladder; p: the previous incarnation, whose ladder the folder did not keep, says so', async () => {
  const finding = merged.findings.find((x) => x.kind === 'time-wait-reuse')!;
  const conn = merged.connections.find((c) => c.id === finding.connection)!;
  const prev = merged.connections.find((c) => c.id === conn.previous)!;
  assert.equal(prev.ladder.length, 0, 'the folder kept no ladder for the connection without findings');
  const u = await ui(store());
  await u.press(KEY.enter, KEY.enter);
  let f = await u.waitFor('Ladder');
  assert.ok(f.includes(`3 Connection ${conn.id}`), f);
  assert.ok(f.includes(`${endpointText(conn.client)} → ${endpointText(conn.server)}`), f);
  assert.ok(f.split('\n').filter((l) => /│[─◀].*[─▶]│/.test(l)).length >= conn.ladder.length, f);
  await u.press('p');
  f = await u.waitFor(`3 Connection ${prev.id}`);
  assert.match(f, /Not kept: the result folder holds packet ladders only for connections with findings/, f);
  assert.ok(f.includes(`${prev.packets} packets are in the capture`), f);
  assert.ok(!/│[─◀].*[─▶]│/.test(f), 'no arrows drawn');
});
