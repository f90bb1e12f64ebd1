/**
 * The one table of variables. The CLI flags, the README's variables table, docs/variables.md and the
 * ChaosExperiment's env list are all generated from it, so they cannot drift apart.
 */

export type Section = 'fault' | 'destinations' | 'timing' | 'safety' | 'output';

export interface Variable {
  /** ENV name; Litmus names are kept where litmus-go has the same setting. */
  readonly env: string;
  /** commander flag spec, e.g. `--latency <ms>`. */
  readonly flag: string;
  /** Default as a string, exactly as the ChaosExperiment's env would carry it. */
  readonly default: string;
  readonly doc: string;
  readonly section: Section;
  /** True when litmus-go's pod-network-latency has a variable with this name and default. */
  readonly litmus: boolean;
  /** False for local-only variables that make no sense in a cluster manifest. */
  readonly manifest: boolean;
  /** May be given more than once on the command line (the values are joined). */
  readonly repeatable?: boolean;
}

export const variables = [
  {
    env: 'NETWORK_INTERFACE', flag: '--interface <name>', default: 'eth0', section: 'fault', litmus: true, manifest: true,
    doc: 'Interface inside the target network namespace to shape.',
  },
  {
    env: 'NETWORK_LATENCY', flag: '--latency <ms>', default: '2000', section: 'fault', litmus: true, manifest: true,
    doc: 'Delay added to matched packets, in milliseconds (decimals allowed).',
  },
  {
    env: 'JITTER', flag: '--jitter <ms>', default: '0', section: 'fault', litmus: true, manifest: true,
    doc: 'Delay variation, in milliseconds (± around NETWORK_LATENCY).',
  },
  {
    env: 'CORRELATION', flag: '--correlation <percent>', default: '0', section: 'fault', litmus: false, manifest: true,
    doc: 'Correlation of each delay with the previous one, in percent.',
  },
  {
    env: 'DELAY_DISTRIBUTION', flag: '--distribution <name>', default: '', section: 'fault', litmus: false, manifest: true,
    doc: 'Shape of the jitter: normal, pareto, paretonormal or uniform (needs JITTER > 0; empty = uniform).',
  },
  {
    env: 'NETWORK_PACKET_LOSS_PERCENTAGE', flag: '--loss <percent>', default: '0', section: 'fault', litmus: false, manifest: true,
    doc: 'Share of matched packets dropped, in percent.',
  },
  {
    env: 'NETWORK_PACKET_DUPLICATION_PERCENTAGE', flag: '--duplication <percent>', default: '0', section: 'fault', litmus: false, manifest: true,
    doc: 'Share of matched packets duplicated, in percent.',
  },
  {
    env: 'NETWORK_PACKET_CORRUPTION_PERCENTAGE', flag: '--corruption <percent>', default: '0', section: 'fault', litmus: false, manifest: true,
    doc: 'Share of matched packets with a corrupted bit, in percent.',
  },
  {
    env: 'NETWORK_PACKET_REORDER_PERCENTAGE', flag: '--reorder <percent>', default: '0', section: 'fault', litmus: false, manifest: true,
    doc: 'Share of matched packets sent at once, ahead of delayed ones, in percent (needs NETWORK_LATENCY > 0).',
  },
  {
    env: 'NETWORK_BANDWIDTH', flag: '--bandwidth <rate>', default: '', section: 'fault', litmus: false, manifest: true,
    doc: 'Rate limit for matched packets, e.g. 1mbit, 500kbit, 10mbps (bytes/s); empty = no limit.',
  },
  {
    env: 'DESTINATION_IPS', flag: '--destination-ips <list>', default: '', section: 'destinations', litmus: true, manifest: true,
    doc: 'Comma list of IPv4/IPv6 addresses or CIDRs, each optionally with destination ports: `192.0.2.10|8080|8443,2001:db8::/64`. Empty (and no FAULTS) = all egress traffic of the interface.',
  },
  {
    env: 'DESTINATION_IPS_FILE', flag: '--destination-ips-file <path>', default: '', section: 'destinations', litmus: false, manifest: false,
    doc: 'File with more DESTINATION_IPS items, one per line (`#` starts a comment), for lists too long for an environment variable.',
  },
  {
    env: 'DESTINATION_PORTS', flag: '--destination-ports <list>', default: '', section: 'destinations', litmus: true, manifest: true,
    doc: 'Comma list of destination ports to match (AND-combined with the addresses); a leading `!` means all ports except these.',
  },
  {
    env: 'SOURCE_PORTS', flag: '--source-ports <list>', default: '', section: 'destinations', litmus: true, manifest: true,
    doc: 'Comma list of source ports to match (AND-combined with the addresses); a leading `!` means all ports except these.',
  },
  {
    env: 'FAULTS', flag: '--fault <group>', default: '', section: 'destinations', litmus: false, manifest: true, repeatable: true,
    doc: 'Different faults for different destinations in one run: groups `<fault>@<destinations>` separated by spaces, e.g. `latency=100@192.0.2.11|8080 loss=5@192.0.2.12`. See "Several faults in one run".',
  },
  {
    env: 'TOTAL_CHAOS_DURATION', flag: '--duration <seconds>', default: '60', section: 'timing', litmus: true, manifest: true,
    doc: 'How long the fault stays, in seconds (also 90s, 5m, 1h).',
  },
  {
    env: 'RAMP_TIME', flag: '--ramp-time <seconds>', default: '', section: 'timing', litmus: true, manifest: true,
    doc: 'Wait before injecting and again after reverting, in seconds (empty = 0).',
  },
  {
    env: 'FORCE', flag: '--force', default: 'false', section: 'safety', litmus: false, manifest: true,
    doc: 'Replace a root qdisc that is not a kernel default (e.g. a CNI bandwidth limit). It is NOT restored afterwards: the interface gets its default qdisc back.',
  },
  {
    env: 'LOG_LEVEL', flag: '--log-level <level>', default: 'info', section: 'output', litmus: false, manifest: true,
    doc: 'debug, info, warn or error. Logs are JSON lines on stderr.',
  },
  {
    env: 'OUTPUT', flag: '--output <format>', default: 'text', section: 'output', litmus: false, manifest: false,
    doc: '`plan` output: text or json.',
  },
] as const satisfies readonly Variable[];

export type VariableName = (typeof variables)[number]['env'];

export function variable(name: VariableName): Variable {
  const found: Variable | undefined = variables.find((v) => v.env === name);
  if (!found) throw new Error(`no variable ${name}`);
  return found;
}

/** The long flag without its argument, e.g. `--latency`. */
export const flagName = (v: Variable): string => v.flag.split(' ')[0] ?? v.flag;

/** commander's attribute name for a flag: `--destination-ips` → `destinationIps`. */
export const optionKey = (v: Variable): string =>
  flagName(v).replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
