import { formatAddress } from '../decode/format.js';

/** Slots of the cache (a power of two). */
const SLOTS = 1 << 12;

/**
 * IPv4 addresses as text for judging, from a small direct-mapped cache (a slot per hash of the address; a newer
 * address takes the slot). A streamed analysis judges each connection once and makes its two endpoints' text then:
 * a busy capture's servers, and the clients behind a NAT or a load balancer, come back thousands of times, and each
 * formatAddress() is a new string (~60 MiB over the bench capture's 250 k connections). IPv6 is formatted each time.
 */
export class AddressText {
  private readonly keys = new Int32Array(SLOTS);
  private readonly texts: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

  /** The text of an address: IPv4 in w0 (unsigned), IPv6 as the four big-endian words. */
  of(v: 4 | 6, w0: number, w1: number, w2: number, w3: number): string {
    if (v === 6) return formatAddress(6, [w0, w1, w2, w3]);
    const slot = Math.imul(w0, 0x9e3779b1) >>> 20;
    const s = this.texts[slot];
    if (s !== undefined && this.keys[slot] === (w0 | 0)) return s;
    const t = formatAddress(4, [w0]);
    this.keys[slot] = w0;
    this.texts[slot] = t;
    return t;
  }
}
