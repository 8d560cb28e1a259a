/**
 * The encapsulation layers of a decoded packet as output: one object per layer, outermost first, and one line of
 * text ("vlan 10 › ipv4 192.0.2.1→192.0.2.2 › vxlan vni 42"). Not on the hot path: built once per connection
 * direction and shared between connections on the same path.
 */
import type { EncapLayer } from '../model/report.js';
import { formatAddress } from './format.js';
import { LAYER, type TcpPacket } from './packet.js';

export type { EncapLayer };

/** The layers `p` was decoded with, as output objects. */
export function describeLayers(p: TcpPacket): EncapLayer[] {
  const out: EncapLayer[] = [];
  for (let i = 0; i < p.layers; i++) {
    const id = p.layerId[i] as number;
    const aux = p.layerAux[i] as number;
    switch (p.layerKind[i]) {
      case LAYER.VLAN: out.push({ type: 'vlan', id }); break;
      case LAYER.MPLS: out.push({ type: 'mpls', label: id }); break;
      case LAYER.PPPOE: out.push({ type: 'pppoe', session: id }); break;
      case LAYER.IP: {
        const v = aux === 6 ? 6 : 4;
        const o = i << 3;
        out.push({
          type: v === 6 ? 'ipv6' : 'ipv4',
          src: formatAddress(v, p.layerAddr.subarray(o, o + 4)), dst: formatAddress(v, p.layerAddr.subarray(o + 4, o + 8)),
        });
        break;
      }
      case LAYER.GRE:
        if (((aux >>> 16) & 7) === 1) out.push({ type: 'pptp', call: id });
        else out.push({ type: 'gre', key: ((aux >>> 16) & 0x2000) !== 0 ? id : null, protocol: aux & 0xffff });
        break;
      case LAYER.ERSPAN: {
        const ver = aux >>> 16;
        out.push(ver === 0 ? { type: 'erspan', version: 'I', session: null, vlan: null }
          : { type: 'erspan', version: ver === 1 ? 'II' : 'III', session: id, vlan: aux & 0xfff });
        break;
      }
      case LAYER.VXLAN: out.push({ type: 'vxlan', vni: id }); break;
      case LAYER.VXLAN_GPE: out.push({ type: 'vxlan-gpe', vni: id }); break;
      case LAYER.GENEVE: out.push({ type: 'geneve', vni: id, optionBytes: aux >>> 16 }); break;
      case LAYER.TEREDO: {
        const origin = (aux & 1) !== 0 ? `${formatAddress(4, p.layerAddr.subarray(i << 3, (i << 3) + 1))}:${aux >>> 16}` : null;
        out.push({ type: 'teredo', origin, auth: (aux & 2) !== 0 });
        break;
      }
      case LAYER.GTP_U: out.push({ type: 'gtp-u', teid: id }); break;
      case LAYER.L2TP: out.push({ type: 'l2tp', tunnel: id >>> 16, session: id & 0xffff }); break;
      default: break;
    }
  }
  return out;
}

function layerText(l: EncapLayer): string {
  switch (l.type) {
    case 'vlan': return `vlan ${l.id}`;
    case 'mpls': return `mpls ${l.label}`;
    case 'pppoe': return `pppoe session ${l.session}`;
    case 'ipv4': case 'ipv6': return `${l.type} ${l.src}→${l.dst}`;
    case 'gre': return `gre${l.protocol === 0x883e ? ' wccp' : ''}${l.key === null ? '' : ` key ${l.key}`}`;
    case 'pptp': return `pptp call ${l.call}`;
    case 'erspan': return `erspan ${l.version}${l.session === null ? '' : ` session ${l.session}`}`;
    case 'vxlan': return `vxlan vni ${l.vni}`;
    case 'vxlan-gpe': return `vxlan-gpe vni ${l.vni}`;
    case 'geneve': return `geneve vni ${l.vni}${l.optionBytes ? ` (${l.optionBytes} B options)` : ''}`;
    case 'teredo': return `teredo${l.origin === null ? '' : ` origin ${l.origin}`}${l.auth ? ' auth' : ''}`;
    case 'gtp-u': return `gtp-u teid 0x${l.teid.toString(16).padStart(8, '0')}`;
    case 'l2tp': return `l2tp tunnel ${l.tunnel} session ${l.session}`;
  }
}

/**
 * One line, outermost first, '›' between layers; a VLAN stack or MPLS label stack is one item ("vlan 100,200",
 * "mpls 16,17"). '' for no layers.
 */
export function encapText(layers: readonly EncapLayer[]): string {
  const parts: string[] = [];
  let prev: EncapLayer | null = null;
  for (const l of layers) {
    if (prev !== null && prev.type === l.type && (l.type === 'vlan' || l.type === 'mpls')) {
      parts[parts.length - 1] += `,${l.type === 'vlan' ? l.id : l.label}`;
    } else {
      parts.push(layerText(l));
    }
    prev = l;
  }
  return parts.join(' › ');
}

/** The same layers seen from the other direction: outer IP source and destination swapped. */
export function reversedLayers(layers: readonly EncapLayer[]): EncapLayer[] {
  return layers.map((l) => (l.type === 'ipv4' || l.type === 'ipv6' ? { ...l, src: l.dst, dst: l.src } : l));
}
