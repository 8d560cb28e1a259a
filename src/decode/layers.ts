/**
 * Recording encapsulation layers into a TcpPacket (no allocation) and the path signature they add up to.
 * The signature takes only what identifies a path (ids, labels, outer addresses), never per-packet values.
 */
import { fmix32 } from '../model/hash.js';
import { LAYER, MAX_LAYERS, type TcpPacket } from './packet.js';

/** Appends a layer entry; false when the packet already holds MAX_LAYERS (the caller reports 'too-deep'). */
export function pushLayer(out: TcpPacket, kind: number, id: number, aux: number, sigPart: number): boolean {
  const i = out.layers;
  if (i >= MAX_LAYERS) return false;
  out.layerKind[i] = kind;
  out.layerId[i] = id;
  out.layerAux[i] = aux;
  out.layers = i + 1;
  out.pathSig = fmix32(out.pathSig ^ fmix32(Math.imul(kind, 0x9e3779b1) ^ id) ^ Math.imul(sigPart, 0x27d4eb2f));
  if (kind === LAYER.VLAN) out.vlanKey = fmix32(out.vlanKey ^ Math.imul(id + 1, 0x9e3779b1));
  return true;
}

function addrHash(w: Uint32Array): number {
  return fmix32((w[0] as number) ^ fmix32((w[1] as number) ^ fmix32((w[2] as number) ^ fmix32(w[3] as number))));
}

/**
 * Records the IP header just decoded (its addresses are in out.src/out.dst) as an outer layer: it carries a tunnel.
 * The signature adds the two addresses without order, so both directions of a tunnel agree.
 */
export function pushIpLayer(out: TcpPacket): boolean {
  const i = out.layers;
  if (i >= MAX_LAYERS) return false;
  const a = out.layerAddr;
  const s = out.src;
  const d = out.dst;
  const o = i << 3;
  a[o] = s[0] as number; a[o + 1] = s[1] as number; a[o + 2] = s[2] as number; a[o + 3] = s[3] as number;
  a[o + 4] = d[0] as number; a[o + 5] = d[1] as number; a[o + 6] = d[2] as number; a[o + 7] = d[3] as number;
  return pushLayer(out, LAYER.IP, 0, out.ipVersion, (addrHash(s) + addrHash(d)) | 0);
}
