// Why ovs-ofctl calls a port "invalid or unknown": it may be missing (a VM that is not running),
// on another bridge, or listed by `ovs-vsctl show` yet without a network device (ofport -1), the
// usual state of a quickstart's uplink `ovs-vsctl add-port br bs0` on a host without a bs0.

/** Runs `ovs-vsctl ARGS` and resolves with its standard output. */
export type Vsctl = (args: string[]) => Promise<string>;

interface InterfaceRow {
  ofport: number | undefined;
  error: string | undefined;
}

/** An OVSDB value in --data=json: a scalar, or ["set", []] when empty. */
const scalar = <T>(value: unknown, type: 'number' | 'string'): T | undefined => (typeof value === type ? (value as T) : undefined);

async function interfaceRow(vsctl: Vsctl, port: string): Promise<InterfaceRow | undefined> {
  const out = await vsctl(['--format=json', '--data=json', '--columns=ofport,error', 'find', 'Interface', `name="${port}"`]);
  const row = (JSON.parse(out) as { data: unknown[][] }).data[0];
  return row && { ofport: scalar<number>(row[0], 'number'), error: scalar<string>(row[1], 'string') };
}

/**
 * A sentence saying what is wrong with a port OpenFlow does not know, and what to do. `port` is a
 * validated port name. Falls back to the plain statement when OVSDB cannot be asked.
 */
export async function explainUnknownPort(vsctl: Vsctl, bridge: string, port: string): Promise<string> {
  const missing = `port ${port} is not on OVS bridge ${bridge} (is its VM running?)`;
  try {
    const row = await interfaceRow(vsctl, port);
    if (!row) return missing;
    const onBridge = (await vsctl(['port-to-br', port]).catch(() => '')).trim();
    if (onBridge && onBridge !== bridge) return `port ${port} is on OVS bridge ${onBridge}, not on ${bridge}`;
    if (row.ofport === undefined || row.ofport < 0) {
      const why = `ofport ${row.ofport ?? 'unset'}${row.error ? `: ${row.error}` : ''}`;
      return `port ${port} is on ${bridge} but has no network device (${why}); create the device, `
        + `or make it an internal port: ovs-vsctl set interface ${port} type=internal`;
    }
    return missing;
  } catch {
    return missing;
  }
}
