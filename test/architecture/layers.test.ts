import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { FLOORS, importGraph } from '../../scripts/import-graph.js';

const ROOT = resolve(import.meta.dirname, '../..');

test('src/ has no import cycle and no import from a lower floor to a higher one', async () => {
  const g = await importGraph('src', ROOT);
  assert.ok(g.files.length > 50, `only ${g.files.length} files found: the graph tool resolved nothing`);
  assert.ok(g.edges.length > g.files.length, `only ${g.edges.length} imports found`);
  assert.deepEqual(g.cycles, [], 'import cycles');
  assert.deepEqual(g.upward.map((e) => `${e.from} -> ${e.to}`), [], `upward imports (floors, lowest first: ${FLOORS.join(' < ')})`);
});

test('src/model/ imports nothing of the pipeline', async () => {
  const g = await importGraph('src', ROOT);
  const out = g.edges.filter((e) => e.from.startsWith('src/model/') && !e.to.startsWith('src/model/'));
  assert.deepEqual(out, []);
});

test('the check catches an upward import and a cycle', async () => {
  // A copy of two floors where model imports tcp (upward) and tcp imports model back (a cycle).
  const dir = mkdtempSync(join(tmpdir(), 'teardown-layers-'));
  try {
    mkdirSync(join(dir, 'src/model'), { recursive: true });
    mkdirSync(join(dir, 'src/tcp'), { recursive: true });
    writeFileSync(join(dir, 'src/model/a.ts'), "import { b } from '../tcp/b.js';\nexport const a = (): number => b + 1;\n");
    writeFileSync(join(dir, 'src/tcp/b.ts'), "import type { a } from '../model/a.js';\nexport const b = 1;\nexport type A = typeof a;\n");
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const g = await importGraph('src', dir);
    assert.deepEqual(g.upward, [{ from: 'src/model/a.ts', to: 'src/tcp/b.ts' }]);
    assert.deepEqual(g.cycles, [['src/model/a.ts', 'src/tcp/b.ts']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
