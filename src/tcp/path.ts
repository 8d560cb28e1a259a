/**
 * The path a connection's packets took: per direction, the encapsulation of the first packet (VLAN tags, MPLS
 * labels, tunnels; src/decode/describe.ts) and how many later packets came differently. Per packet this is one
 * comparison of the decoder's path signature; the layer description is built once per new path and shared.
 */
import type { Encapsulation } from '../model/report.js';
import { describeLayers, encapText, reversedLayers, type EncapLayer } from '../decode/describe.js';
import type { TcpPacket } from '../decode/packet.js';

/** Distinct path descriptions kept for sharing; the cache starts over when full (only a cost, never a result). */
const CACHE_LIMIT = 4096;

export class PathDescriptions {
  private readonly cache = new Map<number, EncapLayer[]>();

  /** The layers of `p`, shared with earlier packets that had the same layers and outer addresses in this direction. */
  of(p: TcpPacket): EncapLayer[] {
    // pathSig does not see direction (outer addresses unordered); the description does: add the outer sources.
    let k = p.pathSig;
    for (let i = 0; i < p.layers; i++) k = Math.imul(k ^ (p.layerAddr[i << 3] as number) ^ (p.layerAddr[(i << 3) + 3] as number), 0x01000193);
    k ^= p.layers;
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    const d = describeLayers(p);
    this.cache.set(k, d);
    return d;
  }
}

export class PathRecord {
  private sig0 = 0;
  private sig1 = 0;
  private layers0: EncapLayer[] | null = null;
  private layers1: EncapLayer[] | null = null;
  private changed0 = 0;
  private changed1 = 0;

  /** A packet travelling in direction d (0 client→server, 1 server→client) of the connection. */
  note(p: TcpPacket, d: 0 | 1, names: PathDescriptions): void {
    if (d === 0) {
      if (this.layers0 === null) { this.layers0 = names.of(p); this.sig0 = p.pathSig; } else if (p.pathSig !== this.sig0) this.changed0++;
    } else if (this.layers1 === null) { this.layers1 = names.of(p); this.sig1 = p.pathSig; } else if (p.pathSig !== this.sig1) this.changed1++;
  }

  /** For the report: null when no packet in either direction was encapsulated or tagged. */
  report(): Encapsulation | null {
    const c2s = this.layers0;
    const s2c = this.layers1;
    if ((c2s === null || c2s.length === 0) && (s2c === null || s2c.length === 0) && this.changed0 === 0 && this.changed1 === 0) return null;
    const show = (t: string) => (t === '' ? 'none' : t);
    let text: string;
    if (s2c === null) text = show(encapText(c2s ?? []));
    else if (c2s === null) text = `s2c ${show(encapText(s2c))}`;
    else {
      const a = encapText(c2s);
      // Both directions through the same tunnel: one line, in the client→server orientation.
      text = a === encapText(reversedLayers(s2c)) ? show(a) : `c2s ${show(a)}; s2c ${show(encapText(s2c))}`;
    }
    return { c2s, s2c, text, changed: { c2s: this.changed0, s2c: this.changed1 } };
  }
}
