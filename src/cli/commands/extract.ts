import { Command } from 'commander';
import { analyzeFile } from '../../analyze/analyze.js';
import { ExtractError, extractCapture, linkName } from '../../extract/extract.js';
import { SelectionError } from '../../extract/select.js';
import { TS_BASE } from '../../extract/anonymize.js';
import { compareVerdicts } from '../../extract/verify.js';
import { connectionText } from '../../expect/selector.js';
import { isoTime } from '../../report/format.js';
import { EXIT_USAGE, UsageError } from '../errors.js';
import { settingsFrom, wholeNumber, type CommonAnalysisFlags } from '../options.js';
import { addAnalysisOptions } from './analyze.js';

interface ExtractFlags extends CommonAnalysisFlags {
  write: string;
  connection: string[];
  finding?: string;
  allIncarnations?: boolean;
  anonymize?: boolean;
  keepPayload?: boolean;
  rebaseTimestamps?: boolean;
  linkType?: number;
  endMarker: boolean;
}

/** Connections and mapping entries listed before '… N more'. */
const LISTED = 20;

function mapping<K, V>(m: ReadonlyMap<K, V>): string {
  const all = [...m];
  const shown = all.slice(0, LISTED).map(([k, v]) => `${String(k)} → ${String(v)}`).join(', ');
  return all.length > LISTED ? `${shown}, … ${all.length - LISTED} more` : shown;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

const linkTypeArg = wholeNumber('--link-type', 0, 'a LINKTYPE number (1 Ethernet, 113 Linux SLL…)');

export function extractCommand(): Command {
  const cmd = new Command('extract')
    .description('write the packets of chosen connections to a small pcap (how a big capture becomes a fixture)')
    .argument('<capture>', 'capture file (pcap, pcapng, gzip; read twice, so not standard input)')
    .requiredOption('-w, --write <file>', 'output pcap file')
    .option('-c, --connection <id|tuple>', "a connection id (c3) or 4-tuple ('10.0.0.1:40000 -> 10.0.0.2:80', all its incarnations; '#1' for one); repeatable", collect, [])
    .option('--finding <kind>', 'the connections with this finding (with --connection: only those of them)')
    .option('--all-incarnations', 'also every other incarnation on the chosen connections\' 4-tuples')
    .option('--anonymize', 'remap addresses (10.0.0.x, 2001:db8::x), ports (order kept) and MACs, zero TCP payloads, fix checksums; TCP timestamp values (TSval/TSecr) are kept, and they can reveal host uptime: add --rebase-timestamps')
    .option('--keep-payload', 'with --anonymize: keep TCP payload bytes')
    .option('--rebase-timestamps', "with --anonymize: move each host's TCP timestamp clock to start at 1000000 (every order and difference the verdicts read is kept)")
    .option('--link-type <n>', 'keep only frames with this link type (pcapng inputs whose interfaces differ)', linkTypeArg)
    .option('--no-end-marker', 'do not append the non-TCP frame that keeps the capture\'s end time (see docs/expectations.md)');
  addAnalysisOptions(cmd);
  cmd.addHelpText('after', `
Connections whose findings are judged against an earlier incarnation (time-wait-reuse, syn-on-live-tuple) bring it
along. The extract is analyzed again and its verdicts compared with the original's; differences are printed.
Next: teardown check --update <out.pcap> writes its expectation (docs/expectations.md).`);
  cmd.action(async (capture: string, o: ExtractFlags) => {
    if (o.keepPayload && !o.anonymize) throw new UsageError('--keep-payload only applies with --anonymize (without it payloads are kept as they are)');
    if (o.rebaseTimestamps && !o.anonymize) throw new UsageError('--rebase-timestamps only applies with --anonymize');
    const settings = settingsFrom(o);
    let r;
    try {
      r = await extractCapture(capture, {
        output: o.write, connections: o.connection, finding: o.finding, allIncarnations: o.allIncarnations ?? false,
        anonymize: o.anonymize ?? false, keepPayload: o.keepPayload ?? false, rebaseTimestamps: o.rebaseTimestamps ?? false, endMarker: o.endMarker, linkType: o.linkType, settings,
      });
    } catch (e) {
      if (e instanceof ExtractError || e instanceof SelectionError) throw new UsageError(e.message);
      throw e;
    }
    const out: string[] = [];
    const conns = r.selection.connections;
    out.push(`wrote ${r.output}: ${r.frames} frame${r.frames === 1 ? '' : 's'} of ${conns.length} connection${conns.length === 1 ? '' : 's'} (link type ${linkName(r.linkType)}, ${r.nanosecond ? 'ns' : 'µs'} timestamps)`);
    const added = new Map(r.selection.added.map((a) => [a.connection, a.reason]));
    for (const c of conns.slice(0, LISTED)) {
      const why = added.get(c);
      out.push(`  ${connectionText(c)}  frames ${c.firstFrame}-${c.lastFrame}  ${c.teardown}${c.findings.length ? `  [${c.findings.join(', ')}]` : ''}${why ? `  (added: ${why})` : ''}`);
    }
    if (conns.length > LISTED) out.push(`  … ${conns.length - LISTED} more connections${r.selection.added.length ? ` (${r.selection.added.length} in all added for --all-incarnations or as previous incarnations)` : ''}`);
    if (r.markerTime !== null) out.push(`  + end-of-capture marker (one non-TCP frame) at ${isoTime(r.markerTime)}, the input's last timestamp`);
    if (r.anonymizer !== null) {
      const a = r.anonymizer;
      out.push(`  anonymized: ${mapping(a.addressMap)}; ports ${mapping(a.portMap)}; ${o.keepPayload ? 'payload kept' : 'payload zeroed'}${a.timestamped === 0 ? '' : o.rebaseTimestamps ? `; TCP timestamps rebased per host (from ${TS_BASE})` : '; TCP timestamps kept as captured (--rebase-timestamps rebases them)'}`);
    }
    process.stdout.write(out.join('\n') + '\n');
    for (const w of r.warnings) process.stderr.write(`teardown: warning: ${w}\n`);
    // Damaged input ends with exit code 2 as in analyze, after the extract of the frames before the damage.
    if (r.source.capture.error !== null) process.exitCode = EXIT_USAGE;
    const { report } = await analyzeFile(r.output, { settings });
    const diffs = compareVerdicts(r.source, conns, report, r.anonymizer);
    if (diffs.length === 0) {
      process.stdout.write(`verified: analyzing ${r.output} gives the same verdicts for ${conns.length === 1 ? 'this connection' : `these ${conns.length} connections`}\n`);
    } else {
      process.stderr.write(`teardown: warning: the extract does not give the same verdicts as the original:\n${diffs.map((d) => `  ${d}`).join('\n')}\n`);
    }
  });
  return cmd;
}
