/**
 * The model holds endpoints as values; every output prints them as text, `10.0.0.1:80` or `[::1]:5021`, exactly as
 * before they were values: the JSON and NDJSON writers, the text report (findings, aggregates, connection list),
 * and the Parquet rows, which `teardown report` reads back into the same values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { jsonChunks } from '../../src/report/json.js';
import { connectionLine, summaryLine } from '../../src/report/ndjson.js';
import { textReport } from '../../src/report/text.js';
import { connectionFromRow, connectionRow } from '../../src/results/schema.js';
import { ResultsError } from '../../src/results/error.js';

describe('endpoints in every output', () => {
  it('IPv6 (a reused tuple): the model holds values, JSON, NDJSON and text print [addr]:port', async () => {
    const { report } = await analyzeFile('fixtures/ipv6-tw-reuse-higher-isn.pcap');
    const [c1, c2] = report.connections;
    assert.deepEqual(c1!.client, { ipVersion: 6, address: '::1', port: 41021 });
    assert.deepEqual(c1!.server, { ipVersion: 6, address: '::1', port: 5021 });
    assert.equal(c2!.client, c1!.client, 'the incarnations of one tuple share its endpoint values');

    const json = JSON.parse([...jsonChunks(report)].join('')) as {
      connections: { client: string; server: string }[];
      aggregates: { servers: { server: string }[]; pairs: { client: string; server: string }[] };
    };
    assert.deepEqual(json.connections.map((c) => [c.client, c.server]), [['[::1]:41021', '[::1]:5021'], ['[::1]:41021', '[::1]:5021']]);
    assert.deepEqual(json.aggregates.servers.map((a) => a.server), ['[::1]:5021']);
    assert.deepEqual(json.aggregates.pairs.map((p) => [p.client, p.server]), [['::1', '[::1]:5021']]);

    assert.match(connectionLine(c1!), /^\{"type":"connection","id":"c1","client":"\[::1\]:41021","server":"\[::1\]:5021",/);
    assert.match(summaryLine(report), /"servers":\[\{"server":"\[::1\]:5021",/);
    assert.match(summaryLine(report), /"pairs":\[\{"client":"::1","server":"\[::1\]:5021",/);

    const text = textReport(report);
    assert.match(text, /^ {2}c1 {6}\[::1\]:41021 → \[::1\]:5021 +#0 fin /m, 'connection list');
    assert.match(text, /c2 {2}\[::1\]:41021 → \[::1\]:5021 \(incarnation 1\)/, 'finding');
    assert.match(text, /^ {2}::1 → \[::1\]:5021 +2 connections/m, 'TIME_WAIT reuse by pair');
  });

  it('IPv4: a.b.c.d:port; Parquet rows hold the text and read back into the same values', async () => {
    const { report } = await analyzeFile('fixtures/close-wait-stuck.pcap');
    const c = report.connections[0]!;
    const row = connectionRow({ label: 'l', capture: 'x.pcap', shard: null }, c, true);
    assert.deepEqual([row.client, row.server, row.client_host], ['127.0.0.1:41009', '127.0.0.1:5009', '127.0.0.1']);
    assert.match(textReport(report), /^ {2}127\.0\.0\.1:5009 +1 half-closed/m, 'CLOSE_WAIT by server');
    const back = connectionFromRow({ ...row, ladder: JSON.stringify(row.ladder), revisions: JSON.stringify(row.revisions), encapsulation: null }, 'r/connections.parquet');
    assert.deepEqual([back.client, back.server], [c.client, c.server]);
  });

  it('a stored row whose endpoint is not address:port is one error naming the file', async () => {
    const { report } = await analyzeFile('fixtures/close-wait-stuck.pcap');
    const row = connectionRow({ label: 'l', capture: 'x.pcap', shard: null }, report.connections[0]!, true);
    assert.throws(() => connectionFromRow({ ...row, server: '127.0.0.1' }, 'r/connections.parquet'),
      (e: unknown) => e instanceof ResultsError && e.oneLine() === "r/connections.parquet: connection c1: server '127.0.0.1' is not an address:port");
  });
});
