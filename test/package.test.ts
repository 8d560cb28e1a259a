import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import * as lib from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string; main: string; types: string };
const build = JSON.parse(readFileSync(resolve(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };

test('package.json main/types are the build of src/index.ts', () => {
  const { rootDir, outDir } = build.compilerOptions;
  assert.equal(pkg.main, `${outDir}/index.js`);
  assert.equal(pkg.types, `${outDir}/index.d.ts`);
  assert.ok(existsSync(resolve(ROOT, rootDir, 'index.ts')));
});

test('the library API analyzes a capture and reports the package version', async () => {
  assert.equal(lib.VERSION, pkg.version);
  const { report } = await lib.analyzeFile(resolve(ROOT, 'fixtures/fin-client-first.pcap'));
  assert.equal(report.tool.version, pkg.version);
  assert.ok(report.connections.length > 0);
  assert.equal(report.connections[0]?.teardown, 'fin');
});
