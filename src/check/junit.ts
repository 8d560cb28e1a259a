/**
 * JUnit XML for `teardown check --reporter junit`: one <testsuite> per capture, one <testcase> per assertion of its
 * expectation (connections[i], findings[i], "unexpected", "capture"). A failed assertion carries a <failure> whose
 * text is the same diff `teardown check` prints; a capture without an expectation is a failed test case, an input
 * error (unreadable capture, invalid expectation) an <error>. The shape is the one Jenkins, GitLab and GitHub
 * reporters read (testsuites > testsuite > testcase > failure|error).
 */
import type { CheckResult } from './check.js';
import { problemLines, problemSummary } from './diff.js';

/** XML 1.0 text/attribute escaping; characters XML cannot hold at all are replaced by U+FFFD. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const attr = (name: string, v: string | number): string => ` ${name}="${xmlEscape(String(v))}"`;

interface Case { name: string; failure: { type: string; message: string; text: string } | null; error: { message: string } | null }

function casesOf(r: CheckResult): Case[] {
  if (r.status === 'error') return [{ name: 'analyze and load expectation', failure: null, error: { message: r.error ?? 'error' } }];
  if (r.status === 'no-expectation') {
    return [{ name: 'expectation exists', error: null, failure: {
      type: 'no-expectation',
      message: `${r.expectationPath ?? 'the expectation file'} does not exist`,
      text: `create it from the current verdicts: teardown check --update ${r.capture}`,
    } }];
  }
  return r.items.map((it) => {
    if (it.ok) return { name: `${it.ref} ${it.title}`, failure: null, error: null };
    const lines = it.problems.flatMap((p) => problemLines(p, r.report, ''));
    const types = [...new Set(it.problems.map((p) => p.type))].join(',');
    return { name: `${it.ref} ${it.title}`, error: null, failure: { type: types, message: it.problems.map(problemSummary).join(' | ') || 'failed', text: lines.join('\n') } };
  });
}

/** The whole run as one JUnit XML document. */
export function junitReport(results: CheckResult[], opts: { name?: string } = {}): string {
  const suites = results.map((r) => ({ r, cases: casesOf(r) }));
  const count = (f: (c: Case) => boolean): number => suites.reduce((n, s) => n + s.cases.filter(f).length, 0);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites${attr('name', opts.name ?? 'teardown check')}${attr('tests', count(() => true))}${attr('failures', count((c) => c.failure !== null))}${attr('errors', count((c) => c.error !== null))}>`);
  for (const { r, cases } of suites) {
    const failures = cases.filter((c) => c.failure !== null).length;
    const errors = cases.filter((c) => c.error !== null).length;
    out.push(`  <testsuite${attr('name', r.capture)}${attr('tests', cases.length)}${attr('failures', failures)}${attr('errors', errors)}${attr('skipped', 0)}>`);
    out.push('    <properties>');
    out.push(`      <property${attr('name', 'expectation')}${attr('value', r.expectationPath ?? '')}/>`);
    out.push(`      <property${attr('name', 'status')}${attr('value', r.status)}/>`);
    out.push('    </properties>');
    for (const c of cases) {
      const open = `    <testcase${attr('classname', r.capture)}${attr('name', c.name)}`;
      if (c.failure !== null) {
        out.push(`${open}>`);
        out.push(`      <failure${attr('type', c.failure.type)}${attr('message', c.failure.message)}>${xmlEscape(c.failure.text)}</failure>`);
        out.push('    </testcase>');
      } else if (c.error !== null) {
        out.push(`${open}>`);
        out.push(`      <error${attr('type', 'input-error')}${attr('message', c.error.message)}>${xmlEscape(c.error.message)}</error>`);
        out.push('    </testcase>');
      } else {
        out.push(`${open}/>`);
      }
    }
    if (r.notes.length > 0) out.push(`    <system-out>${xmlEscape(r.notes.join('\n'))}</system-out>`);
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
