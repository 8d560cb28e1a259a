/**
 * The import graph of src/ by floor (docs/design.md): files, cycles and upward imports, measured with
 * dependency-cruiser. `node --import tsx scripts/import-graph.ts` prints the figures; test/architecture/layers.test.ts
 * asserts them.
 */
import { cruise, type ICruiseResult } from 'dependency-cruiser';

/** Floors, lowest first: a module may import its own floor and the floors below it, never one above. */
export const FLOORS = [
  'model', 'capture', 'decode', 'tcp', 'findings', 'analyze', 'report', 'results', 'expect', 'check', 'extract', 'ui', 'cli', 'index',
] as const;

export function floorOf(path: string): number {
  const m = /^src\/([^/.]+)/.exec(path);
  const name = m?.[1] ?? '';
  const i = (FLOORS as readonly string[]).indexOf(name);
  if (i < 0) throw new Error(`${path}: not on a floor (add its folder to FLOORS in scripts/import-graph.ts)`);
  return i;
}

export interface Edge { from: string; to: string }
export interface Graph { files: string[]; edges: Edge[]; cycles: string[][]; upward: Edge[] }

/** The graph of `root` (relative to `cwd`, the project directory); type-only imports count. */
export async function importGraph(root = 'src', cwd = process.cwd()): Promise<Graph> {
  const here = process.cwd();
  let r;
  process.chdir(cwd);
  try {
    r = await cruise([root], {
      tsConfig: { fileName: 'tsconfig.json' }, tsPreCompilationDeps: true, doNotFollow: { path: 'node_modules' },
      exclude: { path: `^(?!${root}/)` }, validate: false,
    });
  } finally {
    process.chdir(here);
  }
  const out = r.output as ICruiseResult;
  const files: string[] = [];
  const edges: Edge[] = [];
  for (const m of out.modules) {
    if (!m.source.startsWith(`${root}/`)) continue;
    files.push(m.source);
    for (const d of m.dependencies) if (d.resolved.startsWith(`${root}/`)) edges.push({ from: m.source, to: d.resolved });
  }
  return { files: files.sort(), edges, cycles: cyclesOf(files, edges), upward: edges.filter((e) => floorOf(e.to) > floorOf(e.from)) };
}

/** Strongly connected components with more than one file (Tarjan): each is one import cycle. */
function cyclesOf(files: string[], edges: Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  let n = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, n); low.set(v, n); n++; stack.push(v); on.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const g = await importGraph();
  console.log(`${g.files.length} files, ${g.edges.length} imports, ${g.cycles.length} cycles (${g.cycles.map((c) => c.length).join(', ') || 'none'} files), ${g.upward.length} upward imports`);
  for (const c of g.cycles) console.log(`cycle: ${c.join(' ')}`);
  for (const e of g.upward) console.log(`upward: ${e.from} -> ${e.to}`);
}
