import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { formatCheckResult, formatCheckSummary } from '../../check/diff.js';
import { checkPaths, exitCodeForResults, updatePaths } from '../../check/run.js';
import { junitReport } from '../../check/junit.js';
import { inCi } from '../ci.js';
import { EXIT_OK, EXIT_USAGE, UsageError } from '../errors.js';
import type { ExpectationSettings } from '../../expect/format.js';
import { settingsFrom, type CommonAnalysisFlags } from '../options.js';
import { addAnalysisOptions } from './analyze.js';

interface CheckFlags extends CommonAnalysisFlags {
  reporter: 'text' | 'junit';
  output?: string;
  update?: boolean;
  force?: boolean;
  verbose?: boolean;
}

export function checkCommand(): Command {
  const cmd = new Command('check')
    .description('check captures against their expectation files (x.pcap → x.expect.json; docs/expectations.md)')
    .argument('<paths...>', 'capture files, expectation files or directories (searched recursively)')
    .addOption(new Option('--reporter <format>', 'text (a readable diff) or junit (JUnit XML for CI)').choices(['text', 'junit']).default('text'))
    .option('-o, --output <file>', 'write the report to this file instead of standard output (with junit, the text diff still goes to standard output)')
    .option('--update', 'write or refresh the expectation files from the current verdicts (refused when CI is set, unless --force)')
    .option('--force', 'allow --update when the CI environment variable is set')
    .option('-v, --verbose', 'list the assertions that passed too');
  addAnalysisOptions(cmd);
  cmd.addHelpText('after', `
The analysis settings in an expectation file win over --half-close-timeout/--time-wait; the flags apply to
files without settings, and --update records them in the files it creates.
Exit codes: 0 every capture passed; 1 a check failed or a capture has no expectation; 2 input error.`);
  cmd.action(async (paths: string[], o: CheckFlags) => {
    const settings = settingsFrom(o);
    if (o.force && !o.update) throw new UsageError('--force only applies with --update');
    const reportFlags = (['reporter', 'output', 'verbose'] as const).filter((k) => cmd.getOptionValueSource(k) === 'cli');
    if (o.update && reportFlags.length > 0) {
      throw new UsageError(`--update writes expectation files and prints what it did: ${reportFlags.map((k) => `--${k}`).join(', ')} ${reportFlags.length === 1 ? 'applies' : 'apply'} only when checking`);
    }
    if (o.update) {
      if (inCi() && !o.force) {
        throw new UsageError('refusing --update: CI is set, and expectations written in CI would make every check pass; run it locally and commit the files, or add --force');
      }
      const writeSettings: ExpectationSettings = {};
      if (o.halfCloseTimeout !== undefined) writeSettings.halfCloseTimeout = o.halfCloseTimeout;
      if (o.flowKey !== undefined) writeSettings.flowKey = o.flowKey;
      if (o.timeWait !== undefined) writeSettings.timeWait = o.timeWait.profile === 'custom' ? o.timeWait.seconds : o.timeWait.profile;
      const { updates, errors } = await updatePaths(paths, { settings, writeSettings });
      for (const u of updates) (u.action === 'error' ? process.stderr : process.stdout).write(`${u.action === 'error' ? 'teardown: ' : ''}${u.message}\n`);
      for (const e of errors) process.stderr.write(`teardown: ${e.path}: ${e.message}\n`);
      process.exitCode = errors.length > 0 || updates.some((u) => u.action === 'error') ? EXIT_USAGE : EXIT_OK;
      return;
    }
    const results = await checkPaths(paths, { settings });
    // Input errors are errors: one line each on stderr. The report keeps them too, unless they are all it would hold.
    const errors = results.filter((r) => r.status === 'error');
    for (const r of errors) process.stderr.write(`teardown: ${r.capture}: ${r.error ?? 'unknown error'}\n`);
    if (errors.length === results.length && o.reporter === 'text') {
      process.exitCode = exitCodeForResults(results);
      return;
    }
    const text = results.map((r) => formatCheckResult(r, { verbose: o.verbose ?? false })).join('') + (results.length > 1 ? formatCheckSummary(results) : '');
    if (o.reporter === 'junit') {
      const xml = junitReport(results);
      if (o.output !== undefined) {
        writeOutput(o.output, xml);
        process.stdout.write(text);
      } else {
        process.stdout.write(xml);
      }
    } else if (o.output !== undefined) {
      writeOutput(o.output, text);
    } else {
      process.stdout.write(text);
    }
    process.exitCode = exitCodeForResults(results);
  });
  return cmd;
}

function writeOutput(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as Error).message}`);
  }
}
