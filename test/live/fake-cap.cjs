// A stand-in for the `cap` package with the same surface (Cap, open/close/'packet', deviceList), for testing
// src/capture/live.ts without root or libpcap. The test drives it through FakeCap.last.
const { EventEmitter } = require('node:events');

class Cap extends EventEmitter {
  constructor() {
    super();
    this.buffer = null;
    this.closed = false;
    this.opened = null;
    Cap.last = this;
  }
  open(device, filter, bufSize, buffer) {
    if (Cap.openError) throw new Error(Cap.openError);
    this.opened = { device, filter, bufSize };
    this.buffer = buffer;
    return Cap.linkType;
  }
  close() {
    const was = !this.closed;
    this.closed = true;
    return was;
  }
  /** Copies `bytes` into the shared buffer and emits it, as cap's native dispatch loop does. */
  deliver(bytes) {
    if (this.closed) return false;
    const n = Math.min(bytes.length, this.buffer.length);
    bytes.copy ? bytes.copy(this.buffer, 0, 0, n) : this.buffer.set(bytes.subarray(0, n), 0);
    this.emit('packet', n, n < bytes.length);
    return true;
  }
  static deviceList() {
    return Cap.devices;
  }
}
Cap.last = null;
Cap.openError = null;
Cap.linkType = 'ETHERNET';
Cap.devices = [{ name: 'fake0', addresses: [{ addr: '192.0.2.1', netmask: '255.255.255.0' }] }, { name: 'lo', addresses: [], flags: 'PCAP_IF_LOOPBACK' }];

module.exports = { Cap };
