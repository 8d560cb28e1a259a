/**
 * Writes tshark.json: what tshark dissects in every frame of the captures in this folder (the tunnel ids, the
 * addresses of every IP header, the TCP header: ports, raw numbers, flags, length), the oracle for test/decode/encap.test.ts. Needs tshark; the test
 * does not. Run again after adding a capture:
 *
 *   node --import tsx test/decode/captures/tshark-fields.ts
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Decode-as rules tshark needs for a capture (ports it does not know by default). */
const DECODE_AS: Record<string, string[]> = {
  'vxlan_port_8472.pcap': ['-d', 'udp.port==8472,vxlan'],
};

const FIELDS = [
  'frame.number', 'frame.protocols', 'vlan.id', 'mpls.label', 'pppoe.session_id', 'ip.src', 'ip.dst', 'ipv6.src',
  'ipv6.dst', 'gre.flags.version', 'gre.key', 'gre.key.call_id', 'erspan.version', 'erspan.spanid', 'vxlan.vni',
  'geneve.vni', 'teredo.orig.addr', 'teredo.orig.port', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw',
  'tcp.flags', 'tcp.len',
];

export interface TsharkFrame {
  frame: number;
  protocols: string;
  fields: Record<string, string[]>;
}

const out: Record<string, { tshark: string; frames: TsharkFrame[] }> = {};
const version = execFileSync('tshark', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
for (const f of readdirSync(here).filter((n) => /\.pcap(ng)?$/.test(n)).sort()) {
  const args = ['-r', join(here, f), ...(DECODE_AS[f] ?? []), '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|',
    ...FIELDS.flatMap((x) => ['-e', x])];
  const text = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const frames: TsharkFrame[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const cols = line.split('\t');
    const fields: Record<string, string[]> = {};
    FIELDS.forEach((name, i) => { if (i > 1 && cols[i]) fields[name] = cols[i]!.split('|'); });
    frames.push({ frame: Number(cols[0]), protocols: cols[1] ?? '', fields });
  }
  out[f] = { tshark: version, frames };
}
writeFileSync(join(here, 'tshark.json'), `${JSON.stringify(out, null, 1)}\n`);
