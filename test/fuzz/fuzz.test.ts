/**
 * Bounded fuzzing in the test suite: each Jazzer.js target runs a fixed number of executions from a fixed seed
 * (deterministic, no time limit), after replaying the seeds and every regression input in test/fuzz/regressions/.
 * Long runs: `npm run fuzz -- --minutes N`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ensureJazzer, fuzzTarget, REGRESSIONS, TARGETS, type Target } from './run.js';

/** Executions per target (after the seeds): the fast readers get more. */
const RUNS: Record<Target, number> = { pcap: 3000, pcapng: 3000, decode: 5000, gzip: 150, analysis: 300 };

describe('fuzz targets (bounded)', { timeout: 300_000, concurrency: 2 }, () => {
  ensureJazzer();
  for (const t of TARGETS) {
    test(`${t}: ${RUNS[t]} executions from seed 1 without a failure`, { timeout: 240_000 }, async () => {
      const corpusDir = mkdtempSync(join(tmpdir(), `teardown-fuzz-${t}-`));
      after(() => rmSync(corpusDir, { recursive: true, force: true }));
      const r = await fuzzTarget(t, { runs: RUNS[t], seed: 1, quiet: true, maxLen: 4096, corpusDir });
      assert.ok(r.ok, r.detail);
      assert.ok(r.executions >= RUNS[t], `${r.executions} executions`);
    });
  }
});

describe('fuzz regression inputs', () => {
  for (const t of TARGETS) {
    const dir = join(REGRESSIONS, t);
    const files = existsSync(dir) ? readdirSync(dir).sort() : [];
    for (const f of files) {
      test(`${t}/${f}`, async () => {
        const mod = await import(`./targets/${t}.js`) as { fuzz(data: Buffer): void | Promise<void> };
        await mod.fuzz(readFileSync(join(dir, f)));
      });
    }
  }
});
