#!/usr/bin/env node
// Jazzer.js 4.0.0 ships its libFuzzer addon (prebuilds/fuzzer-linux-x64.node) built against glibc 2.38 and
// libstdc++ from GCC 13; Debian 12 has glibc 2.36 and GCC 12's libstdc++, so the addon fails to load with
// "version `GLIBC_2.38' not found". It needs only three newer symbols:
//   __isoc23_strtol, __isoc23_strtoul  (C23 strtol/strtoul: only adds "0b" prefixes; plain strtol/strtoul do)
//   _ZSt21ios_base_library_initv       (GCC 13 links it only to pull in iostream init; never called)
// This script rewrites the addon in place, without any tool: the two C23 names become strtol/strtoul at
// GLIBC_2.2.5, the iostream anchor becomes unversioned, and the version requirements GLIBC_2.38 and
// GLIBCXX_3.4.32 become GLIBC_2.2.5 and GLIBCXX_3.4. It does nothing when the addon already loads.
// Usage: node test/fuzz/jazzer-glibc.mjs [--check]   (exit 0: the addon loads; 1: it does not)
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

function addonPath() {
  const pkg = dirname(require.resolve('@jazzer.js/fuzzer/package.json'));
  return join(pkg, 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
}

function loads(file) {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { encoding: 'utf8' });
  return { ok: r.status === 0, err: (r.stderr.match(/Error: [^\n]*/) ?? [''])[0] };
}

const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;

function elfHash(s) {
  let h = 0;
  for (const ch of Buffer.from(s, 'latin1')) {
    h = ((h << 4) + ch) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h = (h & ~g) >>> 0;
  }
  return h;
}

/** Patches an ELF64 little-endian shared object in memory; returns what it changed. */
export function patch(b) {
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error('not an ELF64 little-endian file');
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const secs = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    secs.push({
      type: b.readUInt32LE(o + 4), off: Number(b.readBigUInt64LE(o + 0x18)), size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28), info: b.readUInt32LE(o + 0x2c), entsize: Number(b.readBigUInt64LE(o + 0x38)),
    });
  }
  const cstr = (at) => { let e = at; while (b[e] !== 0) e++; return b.toString('latin1', at, e); };
  const changes = [];

  // Version requirements: remember every (name → index, name offset), rename the two that are too new.
  const verneed = secs.find((s) => s.type === SHT_GNU_VERNEED);
  if (verneed === undefined) throw new Error('no version requirements');
  const vstr = secs[verneed.link];
  const byName = new Map();
  const aux = [];
  let vn = verneed.off;
  for (let n = 0; n < verneed.info; n++) {
    const cnt = b.readUInt16LE(vn + 2);
    let a = vn + b.readUInt32LE(vn + 8);
    for (let k = 0; k < cnt; k++) {
      const nameOff = b.readUInt32LE(a + 8);
      const x = { at: a, file: cstr(vstr.off + b.readUInt32LE(vn + 4)), name: cstr(vstr.off + nameOff), nameOff, index: b.readUInt16LE(a + 6) };
      aux.push(x);
      if (!byName.has(x.name)) byName.set(x.name, x);
      a += b.readUInt32LE(a + 12);
    }
    const next = b.readUInt32LE(vn + 12);
    if (next === 0) break;
    vn += next;
  }
  const older = { 'GLIBC_2.38': 'GLIBC_2.2.5', 'GLIBCXX_3.4.32': 'GLIBCXX_3.4' };
  for (const x of aux) {
    const to = older[x.name];
    if (to === undefined) continue;
    const target = aux.find((y) => y.name === to && y.file === x.file);
    if (target === undefined) throw new Error(`no ${to} requirement in ${x.file}`);
    b.writeUInt32LE(elfHash(to), x.at);
    b.writeUInt32LE(target.nameOff, x.at + 8);
    changes.push(`${x.name} -> ${to}`);
  }

  // Symbols: the C23 names become the classic ones (in place: the new name is shorter, and any suffix shared
  // with another string starts after it), bound to GLIBC_2.2.5; the iostream anchor becomes unversioned.
  const dynsym = secs.find((s) => s.type === SHT_DYNSYM);
  const versym = secs.find((s) => s.type === SHT_GNU_VERSYM);
  if (dynsym === undefined || versym === undefined) throw new Error('no dynamic symbols');
  const dstr = secs[dynsym.link];
  const base = byName.get('GLIBC_2.2.5');
  const rename = { __isoc23_strtol: 'strtol', __isoc23_strtoul: 'strtoul' };
  const count = dynsym.size / dynsym.entsize;
  for (let i = 0; i < count; i++) {
    const at = dstr.off + b.readUInt32LE(dynsym.off + i * dynsym.entsize);
    const name = cstr(at);
    const to = rename[name];
    if (to !== undefined) {
      if (base === undefined) throw new Error('no GLIBC_2.2.5 requirement');
      b.write(`${to}\0`, at, 'latin1');
      b.writeUInt16LE(base.index, versym.off + i * 2);
      changes.push(`${name} -> ${to}@GLIBC_2.2.5`);
    } else if (name === '_ZSt21ios_base_library_initv') {
      b.writeUInt16LE(1, versym.off + i * 2);
      changes.push(`${name} unversioned`);
    }
  }
  return changes;
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop());
if (isMain) {
  const file = addonPath();
  const first = loads(file);
  if (first.ok) process.exit(0);
  if (process.argv.includes('--check') || process.platform !== 'linux' || process.arch !== 'x64' || !/GLIBC_2\.38|GLIBCXX_3\.4\.32/.test(first.err)) {
    console.error(`jazzer-glibc: the Jazzer.js addon does not load: ${first.err}`);
    process.exit(1);
  }
  const b = readFileSync(file);
  const changes = patch(b);
  writeFileSync(file, b);
  const after = loads(file);
  console.error(`jazzer-glibc: patched ${file} for glibc 2.36 (${changes.join('; ')})${after.ok ? '' : `; still fails: ${after.err}`}`);
  process.exit(after.ok ? 0 : 1);
}
