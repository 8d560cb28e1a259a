/**
 * teardown as a library: read a capture, get the Report (docs/json-format.md describes every field; a connection's
 * `client` and `server` are `Endpoint` values here, `{ ipVersion, address, port }`, printed by `endpointText`).
 *
 *   import { analyzeFile } from 'teardown';
 *   const { report } = await analyzeFile('trace.pcap', { settings: { timeWait: 60 } });
 *
 * `streamAnalysis` with an `AnalysisSink` hears findings as they are made and connections as they end.
 */
export { analyzeFile, analyzeSource, type AnalyzeOptions } from './analyze/analyze.js';
export { AnalysisSession, type Counters, type SessionHooks, type SessionOptions } from './analyze/session.js';
export type { AnalysisSink, LiveStats, SummaryExtras } from './analyze/sink.js';
export { captureSummary, streamAnalysis, type StreamOptions } from './analyze/stream.js';
export { openCapture, type OpenOptions } from './capture/open.js';
export { CaptureError, type CaptureInfo, type PacketSource, type RawFrame, type SourceResult } from './capture/types.js';
export { endpointText, type Endpoint } from './model/endpoint.js';
export type * from './model/report.js';
export { FINDING_KINDS } from './model/report.js';
export { DEFAULT_SETTINGS, TIME_WAIT_PROFILES } from './model/settings.js';
export { VERSION } from './model/version.js';
