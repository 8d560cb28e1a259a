/**
 * The readable diff `teardown check` prints: one status line per capture, then for every failed assertion what
 * was expected (`-`) and what the capture shows (`+`), with the evidence frames to open in Wireshark.
 */
import type { ConnectionReport, Finding, PacketRef, Report } from '../model/report.js';
import { packetLine } from '../report/format.js';
import { connectionText } from '../expect/selector.js';
import type { CheckItem, CheckResult, Problem } from './check.js';

const EVIDENCE_HEADER = '  frame   time (+s)    dir  flags        seq (relative)              ack (relative)                len   client/server state after';
const MAX_PACKETS = 12;
const MAX_LISTED = 10;

export interface DiffOptions {
  /** Also list the assertions that passed. */
  verbose?: boolean;
}

function packets(refs: PacketRef[], indent: string, title: string): string[] {
  if (refs.length === 0) return [];
  const shown = refs.slice(0, MAX_PACKETS);
  const out = [`${indent}${title}:`, `${indent}  ${EVIDENCE_HEADER}`];
  for (const p of shown) out.push(`${indent}  ${packetLine(p)}`);
  if (refs.length > shown.length) out.push(`${indent}  … ${refs.length - shown.length} more`);
  return out;
}

/** The packets that tell a connection's story: SYNs, FINs, RSTs and anything the engine annotated. */
function storyPackets(c: ConnectionReport): PacketRef[] {
  return c.ladder.filter((p) => p.note !== undefined || /SYN|FIN|RST/.test(p.flags));
}

function connSummary(c: ConnectionReport): string {
  return `${connectionText(c)}: teardown ${c.teardown}, closer ${c.closer ?? 'none'}, ending ${c.ending}, frames ${c.firstFrame}-${c.lastFrame}, findings: ${c.findings.join(', ') || 'none'}`;
}

function findingLine(f: Finding, byId: Map<string, ConnectionReport>): string {
  const c = byId.get(f.connection);
  return `[${f.severity}] ${f.kind} on ${c ? connectionText(c) : f.connection}`;
}

/** The diff lines for one problem, each starting with `ind`. */
export function problemLines(p: Problem, report: Report | null, ind: string): string[] {
  const byId = new Map((report?.connections ?? []).map((c) => [c.id, c]));
  const out: string[] = [];
  switch (p.type) {
    case 'missing': {
      out.push(`${ind}missing: no ${p.entry.kind} finding${p.entry.severity ? ` (${p.entry.severity})` : ''} on ${p.entry.connectionText ?? 'any connection'}`);
      if (p.entry.connection !== null && p.connections.length === 0) {
        out.push(`${ind}  and no connection matches ${p.entry.connectionText}; the capture has:`);
        for (const c of (report?.connections ?? []).slice(0, MAX_LISTED)) out.push(`${ind}    ${connSummary(c)}`);
        if ((report?.connections.length ?? 0) > MAX_LISTED) out.push(`${ind}    … ${report!.connections.length - MAX_LISTED} more`);
      } else {
        for (const c of p.connections.slice(0, MAX_LISTED)) {
          out.push(`${ind}  ${connSummary(c)}`);
          if (p.connections.length === 1) out.push(...packets(storyPackets(c), `${ind}    `, 'its packets'));
        }
        if (p.connections.length > MAX_LISTED) out.push(`${ind}  … ${p.connections.length - MAX_LISTED} more connections`);
      }
      break;
    }
    case 'details': {
      out.push(`${ind}${findingLine(p.finding, byId)} differs:`);
      for (const m of p.mismatches) {
        out.push(`${ind}  - ${m.path}: ${m.expected}`);
        out.push(`${ind}  + ${m.path}: ${m.actual}`);
      }
      out.push(`${ind}  ${p.finding.summary}`);
      out.push(...packets(p.finding.evidence, `${ind}  `, 'evidence'));
      break;
    }
    case 'count': {
      out.push(`${ind}count: expected ${p.entry.count.text}, found ${p.found.length}`);
      for (const f of p.found.slice(0, MAX_LISTED)) {
        out.push(`${ind}  ${findingLine(f, byId)}: ${f.summary}`);
        out.push(...packets(f.evidence, `${ind}    `, 'evidence'));
      }
      break;
    }
    case 'unexpected': {
      out.push(`${ind}+ ${findingLine(p.finding, byId)}`);
      out.push(`${ind}  ${p.finding.summary}`);
      out.push(...packets(p.finding.evidence, `${ind}  `, 'evidence'));
      break;
    }
    case 'no-connection': {
      const want = p.entry.count === null ? 'at least 1' : p.entry.count.text;
      out.push(`${ind}connections matching ${p.entry.connectionText}: expected ${want}, found ${p.found.length}`);
      const list = p.found.length > 0 ? p.found : report?.connections ?? [];
      if (p.found.length === 0 && list.length > 0) out.push(`${ind}  the capture has:`);
      for (const c of list.slice(0, MAX_LISTED)) out.push(`${ind}    ${connSummary(c)}`);
      if (list.length > MAX_LISTED) out.push(`${ind}    … ${list.length - MAX_LISTED} more`);
      break;
    }
    case 'connection': {
      out.push(`${ind}${connectionText(p.connection)} (frames ${p.connection.firstFrame}-${p.connection.lastFrame}) differs:`);
      for (const m of p.mismatches) {
        out.push(`${ind}  - ${m.field}: ${m.expected}`);
        out.push(`${ind}  + ${m.field}: ${m.actual}`);
      }
      out.push(...packets(storyPackets(p.connection), `${ind}  `, 'its packets'));
      break;
    }
    case 'capture':
      out.push(`${ind}${p.message}`);
      break;
  }
  return out;
}

/** One line per problem (JUnit failure messages, summaries). */
export function problemSummary(p: Problem): string {
  switch (p.type) {
    case 'missing': return `missing ${p.entry.kind} on ${p.entry.connectionText ?? 'any connection'}`;
    case 'details': return `${p.finding.kind} on ${p.finding.connection}: ${p.mismatches.map((m) => `${m.path} expected ${m.expected}, got ${m.actual}`).join('; ')}`;
    case 'count': return `${p.entry.kind} on ${p.entry.connectionText ?? 'any connection'}: expected ${p.entry.count.text}, found ${p.found.length}`;
    case 'unexpected': return `unexpected [${p.finding.severity}] ${p.finding.kind} on ${p.finding.connection}`;
    case 'no-connection': return `connections matching ${p.entry.connectionText}: expected ${p.entry.count === null ? 'at least 1' : p.entry.count.text}, found ${p.found.length}`;
    case 'connection': return `${p.connection.id}: ${p.mismatches.map((m) => `${m.field} expected ${m.expected}, got ${m.actual}`).join('; ')}`;
    case 'capture': return p.message;
  }
}

function itemLines(it: CheckItem, report: Report | null): string[] {
  if (it.ok) return [`  ✓ ${it.ref} ${it.title}`];
  const head = it.ref === 'unexpected'
    ? `  ✗ unexpected: ${it.problems.length} finding(s) not in the expectation ("unexpected": "fail")`
    : `  ✗ ${it.ref} ${it.title}`;
  return [head, ...it.problems.flatMap((p) => problemLines(p, report, '      '))];
}

/** The status line and diff for one capture. */
export function formatCheckResult(r: CheckResult, opts: DiffOptions = {}): string {
  const out: string[] = [];
  const exp = r.expectationPath ?? 'expectation';
  switch (r.status) {
    case 'error':
      out.push(`ERROR ${r.capture}: ${r.error ?? 'unknown error'}`);
      break;
    case 'no-expectation':
      out.push(`NO EXPECTATION ${r.capture}: ${exp} does not exist (write it from the current verdicts: teardown check --update ${r.capture})`);
      break;
    case 'pass':
      out.push(`PASS ${r.capture} (${exp}: ${r.items.length} check${r.items.length === 1 ? '' : 's'})`);
      if (opts.verbose) for (const it of r.items) out.push(...itemLines(it, r.report));
      break;
    case 'fail': {
      const failed = r.items.filter((it) => !it.ok);
      out.push(`FAIL ${r.capture} (${exp}: ${failed.length} of ${r.items.length} checks failed)`);
      for (const it of r.items) if (!it.ok || opts.verbose) out.push(...itemLines(it, r.report));
      break;
    }
  }
  for (const n of r.notes) out.push(`  note: ${n}`);
  return out.join('\n') + '\n';
}

/** One line totals for a run over several captures. */
export function formatCheckSummary(results: CheckResult[]): string {
  const n = (s: CheckResult['status']): number => results.filter((r) => r.status === s).length;
  const parts = [`${n('pass')} passed`, `${n('fail')} failed`];
  if (n('no-expectation')) parts.push(`${n('no-expectation')} without expectation`);
  if (n('error')) parts.push(`${n('error')} error${n('error') === 1 ? '' : 's'}`);
  return `${results.length} capture${results.length === 1 ? '' : 's'}: ${parts.join(', ')}\n`;
}
