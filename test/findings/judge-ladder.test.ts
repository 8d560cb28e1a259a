import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evidence, toRef } from '../../src/findings/context.js';
import { judgeConnection } from '../../src/findings/judge.js';
import { DEFAULT_SETTINGS } from '../../src/model/settings.js';
import { fixtureCaptures } from '../helpers/fixture-captures.js';
import { judgedConnections } from '../helpers/judged-connections.js';

const endpoint = (port: number) => ({ ipVersion: 4 as const, address: '10.0.0.1', port });

test('the ladder is built for every connection (all), those with findings (findings), or none (none: its packets count as elided)', async () => {
  let withFindings = 0;
  let without = 0;
  for (const path of fixtureCaptures()) {
    await judgedConnections(path, (c) => {
      const ctx = { c, id: c.id, client: endpoint(1), server: endpoint(2), settings: DEFAULT_SETTINGS, now: c.lastT, atEnd: false };
      const all = judgeConnection(ctx, '', 4, 'all');
      const some = judgeConnection(ctx, '', 4, 'findings');
      const none = judgeConnection(ctx, '', 4, 'none');
      assert.ok(all.report.ladder.length > 0, `${path} ${c.id}`);
      assert.equal(all.report.ladder.length + all.report.elided, c.packets);
      assert.deepStrictEqual(some.report.ladder, all.findings.length > 0 ? all.report.ladder : []);
      assert.deepStrictEqual(none.report.ladder, []);
      assert.equal(none.report.elided, c.packets);
      // Only the ladder differs: the findings and their evidence are the same.
      assert.deepStrictEqual(none.findings, all.findings);
      assert.deepStrictEqual({ ...none.report, ladder: [], elided: 0 }, { ...all.report, ladder: [], elided: 0 });
      if (all.findings.length > 0) withFindings++; else without++;
    });
  }
  assert.ok(withFindings > 20 && without > 20, `${withFindings} with findings, ${without} without`);
});

test('evidence() gives the logged packets of the frames in frame order, each once, without 0 or frames not logged', async () => {
  let checked = 0;
  for (const path of fixtureCaptures().slice(0, 6)) {
    await judgedConnections(path, (c) => {
      const logged = c.log.packets().map((r) => r.frame);
      if (logged.length < 3) return;
      const [a, b, z] = [logged[0] as number, logged[1] as number, logged.at(-1) as number];
      const refs = evidence(c, [z, 0, b, a, z, 999_999_999, b]);
      assert.deepStrictEqual(refs.map((r) => r.frame), [a, b, z], `${path} ${c.id}`);
      assert.deepStrictEqual(refs[0], toRef(c, c.log.find(a)!));
      checked++;
    });
  }
  assert.ok(checked > 5, `${checked}`);
});
