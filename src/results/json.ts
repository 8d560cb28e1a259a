import { aggregatesJson, connectionJson } from '../model/json.js';
import { jsonAggregates, jsonHead, JsonList } from '../report/json.js';
import type { Merge } from './merge.js';

/**
 * `report --json`: the analyze --json object of the merged runs (with every ladder the folders kept), then the
 * merge's own fields (captures, labels, overTime) before its closing brace. Connections and findings are written as
 * DuckDB hands them over, a batch at a time: the output never sits in memory whole.
 */
export async function* mergedJsonChunks(m: Merge): AsyncGenerator<string> {
  yield jsonHead(m.head);
  yield* list(new JsonList('connections'), m.connections(), connectionJson);
  yield* list(new JsonList('findings'), m.findings(), (f) => f);
  yield* jsonAggregates(m.head.aggregates);
  yield `,\n  "captures": ${JSON.stringify(m.captures)},\n  "labels": ${JSON.stringify(m.labels.map((l) => ({ ...l, aggregates: aggregatesJson(l.aggregates) })))},\n  "overTime": ${JSON.stringify(m.overTime)}\n}\n`;
}

async function* list<T>(l: JsonList, batches: AsyncIterable<T[]>, map: (x: T) => unknown): AsyncGenerator<string> {
  let buf = l.open();
  for await (const batch of batches) {
    for (const x of batch) buf += l.item(map(x));
    if (buf.length > 1 << 16) { yield buf; buf = ''; }
  }
  yield buf + l.close();
}
