import { Command } from 'commander';
import { LiveCaptureError, listInterfaces, type CapDevice } from '../../capture/live.js';
import { UsageError } from '../errors.js';

/** One line per device: name, addresses, loopback flag, description. */
export function interfacesText(devs: CapDevice[]): string {
  if (devs.length === 0) return 'no capture devices found (capture privileges may be missing: run as root)\n';
  const width = Math.max(...devs.map((d) => d.name.length));
  return devs.map((d) => {
    const addrs = d.addresses.map((a) => a.addr).filter((a) => a !== undefined && a !== '');
    const notes = [d.flags === 'PCAP_IF_LOOPBACK' ? 'loopback' : '', d.description ?? ''].filter((s) => s !== '');
    return `${d.name.padEnd(width)}  ${addrs.join(', ') || '-'}${notes.length ? `  (${notes.join('; ')})` : ''}`;
  }).join('\n') + '\n';
}

export function interfacesCommand(): Command {
  return new Command('interfaces')
    .description('list the interfaces teardown live can capture on (libpcap)')
    .option('--json', 'a JSON array of devices')
    .action((o: { json?: boolean }) => {
      let devs: CapDevice[];
      try {
        devs = listInterfaces();
      } catch (e) {
        if (e instanceof LiveCaptureError) throw new UsageError(e.message);
        throw new UsageError(`cannot list interfaces: ${(e as Error).message}`);
      }
      process.stdout.write(o.json ? JSON.stringify(devs, null, 2) + '\n' : interfacesText(devs));
    });
}
