/**
 * Does an extract tell the same story? Compares the verdicts of the chosen connections in the original report with
 * those of the extract's own analysis: teardown, closer, ending, handshake, final states and the findings (kind,
 * severity and categorical details, as expectation files record them). Connection ids, frame numbers and
 * incarnation numbers are allowed to differ (the extract renumbers them); endpoints are compared through the
 * anonymizer's mapping when there is one.
 */
import { endpointText, type Endpoint } from '../model/endpoint.js';
import type { ConnectionReport, Finding, Report } from '../model/report.js';
import { detailsJson } from '../expect/update.js';
import type { Anonymizer } from './anonymize.js';

function findingSignatures(r: Report, c: ConnectionReport): string[] {
  return r.findings.filter((f: Finding) => f.connection === c.id)
    .map((f) => `${f.kind} [${f.severity}] ${JSON.stringify(detailsJson(f))}`).sort();
}

/** The differences, one line each; empty when the extract gives the same verdicts. */
export function compareVerdicts(original: Report, chosen: readonly ConnectionReport[], extracted: Report, anonymizer: Anonymizer | null = null): string[] {
  const out: string[] = [];
  const want = [...chosen].sort((a, b) => a.firstFrame - b.firstFrame);
  const have = [...extracted.connections].sort((a, b) => a.firstFrame - b.firstFrame);
  if (want.length !== have.length) {
    out.push(`the extract has ${have.length} connection(s), ${want.length} were chosen`);
    return out;
  }
  const map = (e: Endpoint): string => endpointText(anonymizer === null ? e : anonymizer.mapEndpoint(e));
  want.forEach((o, i) => {
    const x = have[i]!;
    const name = `${o.id} (${x.id} in the extract)`;
    const fields: [string, unknown, unknown][] = [
      ['client', map(o.client), endpointText(x.client)], ['server', map(o.server), endpointText(x.server)],
      ['teardown', o.teardown, x.teardown], ['closer', o.closer, x.closer], ['ending', o.ending, x.ending],
      ['handshake', o.handshake, x.handshake], ['states', `${o.states.client}/${o.states.server}`, `${x.states.client}/${x.states.server}`],
      ['packets', o.packets, x.packets],
    ];
    for (const [k, a, b] of fields) if (a !== b) out.push(`${name}: ${k} ${String(a)} → ${String(b)}`);
    const fa = findingSignatures(original, o);
    const fb = findingSignatures(extracted, x);
    const rest = [...fb];
    for (const s of fa) {
      const j = rest.indexOf(s);
      if (j >= 0) rest.splice(j, 1);
      else out.push(`${name}: lost finding ${s}`);
    }
    for (const s of rest) out.push(`${name}: new finding ${s}`);
  });
  return out;
}
