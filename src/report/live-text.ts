import { TextDigest } from '../analyze/digest.js';
import type { AnalysisSession, SessionHooks } from '../analyze/session.js';
import type { AnalysisSink, LiveStats, SummaryExtras } from '../analyze/sink.js';
import type { Finding, Report } from '../model/report.js';
import { plural } from './format.js';
import { findingText, textReport } from './text.js';

/**
 * `teardown live --text` (and a terminal without the UI): findings as text as they come, a status line, then the text
 * report. The report is printed from a digest folded as connections are judged (the worst findings per kind, the
 * first connections): what it keeps is bounded however long the capture runs.
 */
export class TextView implements AnalysisSink {
  readonly hooks: SessionHooks;
  private readonly digest: TextDigest;
  private statusShown = false;
  /** Findings printed so far (clock announcements included, unlike the session's counters). */
  private heard = 0;

  constructor(
    private readonly out: (s: string) => void,
    private readonly status: ((s: string) => void) | null,
    maxPerKind = 50,
  ) {
    const digest = this.digest = new TextDigest(maxPerKind);
    this.hooks = {
      onJudged: (c, findings, seq, version) => digest.add(c, findings, seq, version),
      onLoose: (findings) => digest.addLoose(findings),
      onFinding: (f: Finding) => {
        this.heard++;
        this.clearStatus();
        this.out(`${findingText(f, undefined)}\n\n`);
      },
    };
  }

  tick(session: AnalysisSession, now: number): void {
    session.tick(now);
  }

  stats(s: LiveStats): void {
    if (this.status === null) return;
    const nFindings = Math.max(s.findings, this.heard);
    this.status(`\r\x1b[K${s.interface}${s.filter ? ` [${s.filter}]` : ''}: ${plural(s.packets, 'packet')} (${s.tcpPackets} TCP), ${Math.round(s.rate)} pkt/s, drops ${s.drops === null ? 'unknown' : `${s.dropsSource === 'estimate' ? '~' : ''}${s.drops}`}, ${plural(s.connectionsEnded, 'connection')} ended, ${plural(nFindings, 'finding')}, ${s.elapsedSeconds.toFixed(0)} s`);
    this.statusShown = true;
  }

  end(report: Report, extras: SummaryExtras): void {
    this.clearStatus();
    this.out(textReport(report, { maxPerKind: this.digest.maxPerKind }, this.digest));
    if (extras.evicted) this.out(`  ${plural(extras.evicted, 'connection')} judged early: --max-connections reached\n`);
    if (typeof extras.live?.dropsText === 'string') this.out(`  capture: ${extras.live.dropsText}\n`);
  }

  private clearStatus(): void {
    if (this.statusShown && this.status !== null) this.status('\r\x1b[K');
    this.statusShown = false;
  }
}
