/**
 * The encapsulation as a connection attribute, on real captures: geneve.pcap (tcpdump's test capture) carries one
 * SSH connection whose two directions use different GENEVE VNIs (tshark: one TCP stream); the JSON report lists
 * both directions' layers, the text report and findings show the line.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { jsonChunks } from '../../src/report/json.js';
import { textReport } from '../../src/report/text.js';
import { endpointText } from '../../src/model/endpoint.js';

const GENEVE = join(import.meta.dirname, '..', 'decode', 'captures', 'geneve.pcap');

describe('encapsulation in the report', () => {
  test('geneve.pcap: one connection; each direction keeps its own VNI and outer addresses', async () => {
    const { report } = await analyzeFile(GENEVE);
    assert.equal(report.connections.length, 1);
    const c = report.connections[0]!;
    assert.equal(`${endpointText(c.client)} → ${endpointText(c.server)}`, '30.0.0.2:51225 → 30.0.0.1:22');
    assert.deepEqual(c.encapsulation, {
      c2s: [{ type: 'ipv4', src: '20.0.0.2', dst: '20.0.0.1' }, { type: 'geneve', vni: 11, optionBytes: 0 }],
      s2c: [{ type: 'ipv4', src: '20.0.0.1', dst: '20.0.0.2' }, { type: 'geneve', vni: 10, optionBytes: 8 }],
      text: 'c2s ipv4 20.0.0.2→20.0.0.1 › geneve vni 11; s2c ipv4 20.0.0.1→20.0.0.2 › geneve vni 10 (8 B options)',
      changed: { c2s: 0, s2c: 0 },
    });
    const json = JSON.parse([...jsonChunks(report)].join('')) as { connections: { encapsulation: unknown }[] };
    assert.deepEqual(json.connections[0]!.encapsulation, c.encapsulation);
    assert.match(textReport(report), /c1 .* via c2s ipv4 20\.0\.0\.2→20\.0\.0\.1 › geneve vni 11; s2c/);
  });

  test('a plain capture: encapsulation null', async () => {
    const { report } = await analyzeFile(join('fixtures', 'fin-client-first.pcap'));
    assert.ok(report.connections.length > 0);
    for (const c of report.connections) assert.equal(c.encapsulation, null);
    assert.ok(!textReport(report).includes(' via '));
  });
});
