/**
 * What must hold for every report, whatever the input: checked on every fuzz case and every fixture.
 * Throws an Error naming the first broken invariant.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import type { Report } from '../../src/model/report.js';
import { jsonChunks } from '../../src/report/json.js';

const require = createRequire(import.meta.url);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCHEMA_PATH = join(ROOT, 'docs', 'report.schema.json');

let validator: ValidateFunction | null = null;

/** The documented schema (docs/report.schema.json) compiled once with ajv. */
export function schemaValidator(): ValidateFunction {
  if (validator === null) {
    const Ajv = require('ajv') as typeof import('ajv').default;
    const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')));
  }
  return validator;
}

function fail(what: string): never {
  throw new Error(`invariant broken: ${what}`);
}

/**
 * The report as printed by --json is valid against the schema, and consistent: frames exist, ranges are ordered,
 * counts add up, findings point at reported connections.
 */
export function checkReport(r: Report, opts: { maxConnections?: number } = {}): void {
  const text = [...jsonChunks(r, { ladders: 'all' })].join('');
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) { fail(`--json output is not JSON: ${(e as Error).message}`); }
  const v = schemaValidator();
  if (!v(doc)) fail(`schema: ${JSON.stringify(v.errors?.slice(0, 3))}`);

  const frames = r.capture.packets;
  const inCapture = (f: number, what: string) => {
    if (!Number.isInteger(f) || f < 1 || f > frames) fail(`${what}: frame ${f} is not in the capture (1..${frames})`);
  };
  const ids = new Set<string>();
  for (const c of r.connections) {
    if (ids.has(c.id)) fail(`connection id ${c.id} twice`);
    ids.add(c.id);
    if (c.lastFrame < c.firstFrame) fail(`${c.id}: lastFrame ${c.lastFrame} < firstFrame ${c.firstFrame}`);
    if (c.end < c.start) fail(`${c.id}: end ${c.end} < start ${c.start}`);
    inCapture(c.firstFrame, `${c.id} firstFrame`);
    inCapture(c.lastFrame, `${c.id} lastFrame`);
    if (c.packets > frames) fail(`${c.id}: ${c.packets} packets in a capture of ${frames}`);
    if (c.ladder.length + c.elided !== c.packets) fail(`${c.id}: ladder ${c.ladder.length} + elided ${c.elided} ≠ packets ${c.packets}`);
    for (const p of c.ladder) {
      inCapture(p.frame, `${c.id} ladder`);
      if (p.frame < c.firstFrame || p.frame > c.lastFrame) fail(`${c.id}: ladder frame ${p.frame} outside ${c.firstFrame}..${c.lastFrame}`);
    }
  }
  for (const c of r.connections) {
    if (c.previous !== null && !ids.has(c.previous)) fail(`${c.id}: previous ${c.previous} not reported`);
  }
  for (const f of r.findings) {
    if (f.connection !== '' && !ids.has(f.connection)) fail(`${f.kind} finding on unreported connection ${f.connection}`);
    if (f.connection === '' && f.kind !== 'syn-flood') fail(`${f.kind} finding without a connection`);
    for (const p of f.evidence) inCapture(p.frame, `${f.kind} evidence`);
  }
  if (r.summary.connections !== r.connections.length) fail('summary.connections ≠ connections.length');
  const kinds = Object.values(r.summary.findings).reduce((a, b) => a + (b ?? 0), 0);
  if (kinds !== r.findings.length) fail('summary.findings does not add up to findings.length');
  const sev = r.summary.severity.info + r.summary.severity.warn + r.summary.severity.error;
  if (sev !== r.findings.length) fail('summary.severity does not add up to findings.length');
  const td = Object.values(r.summary.teardown).reduce((a, b) => a + b, 0);
  if (td !== r.connections.length) fail('summary.teardown does not add up to connections.length');
  const e = r.summary.evicted;
  if (e.total !== e.handshakeOnly + e.judgedEarly) fail('evicted.total ≠ handshakeOnly + judgedEarly');
  if (opts.maxConnections !== undefined && e.maxConnections !== opts.maxConnections) fail('evicted.maxConnections is not the bound in force');
  if (r.capture.tcpPackets > frames) fail('more TCP packets than packets');
  if (r.capture.firstTime !== null && r.capture.lastTime !== null && r.capture.lastTime < r.capture.firstTime) fail('lastTime < firstTime');
}
