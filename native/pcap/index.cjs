// The compiled addon (src/capture.c). Loaded lazily by src/capture/live.ts; a missing build throws MODULE_NOT_FOUND.
module.exports = require('./build/Release/teardown_pcap.node');
