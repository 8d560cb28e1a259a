import { jsonAggregates, jsonHead, JsonList } from '../report/json.js';
import type { Merge } from './merge.js';

/**
 * `report --json`: the analyze --json object of the merged runs (with every ladder the folders kept), then the
 * merge's own fields (captures, labels, overTime) before its closing brace. Connections and findings are written as
 * DuckDB hands them over, a batch at a time: the output never sits in memory whole.
 */
export async function* mergedJsonChunks(m: Merge): AsyncGenerator<string> {
  yield jsonHead(m.head);
  yield* list(new JsonList('connections'), m.connections());
  yield* list(new JsonList('findings'), m.findings());
  yield* jsonAggregates(m.head.aggregates);
  yield `,\n  "captures": ${JSON.stringify(m.captures)},\n  "labels": ${JSON.stringify(m.labels)},\n  "overTime": ${JSON.stringify(m.overTime)}\n}\n`;
}

async function* list(l: JsonList, batches: AsyncIterable<unknown[]>): AsyncGenerator<string> {
  let buf = l.open();
  for await (const batch of batches) {
    for (const x of batch) buf += l.item(x);
    if (buf.length > 1 << 16) { yield buf; buf = ''; }
  }
  yield buf + l.close();
}
