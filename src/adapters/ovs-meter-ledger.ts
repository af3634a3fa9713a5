// Which meters on a bridge are wimaxvm's, recorded in OVSDB before they are added. Flows carry
// their owner in the cookie; meters have nothing alike, so a meter added by a controller killed
// before its flows went in was nobody's and stayed for ever. Each meter id is written into the
// bridge's external_ids (`wimaxvm-meter-ID`) before `add-meter`, and taken out after
// `del-meter`: a recorded meter no flow of ours uses is a leftover to delete, and a meter that
// is not recorded and not used by our flows is someone else's and never touched.
import type { Vsctl } from './ovs-port-diagnosis.js';

const KEY = 'wimaxvm-meter-';

export class MeterLedger {
  constructor(private readonly vsctl: Vsctl, private readonly bridge: string) {}

  /** The meter ids recorded as ours. */
  async load(): Promise<Set<number>> {
    const out = await this.vsctl(['--format=json', '--data=json', '--columns=external_ids', 'find', 'Bridge', `name="${this.bridge}"`]);
    const row = (JSON.parse(out) as { data: [['map', [string, string][]]][] }).data[0];
    const ids = (row?.[0]?.[1] ?? []).map(([key]) => key).filter((key) => key.startsWith(KEY)).map((key) => Number(key.slice(KEY.length)));
    return new Set(ids.filter((id) => Number.isSafeInteger(id) && id > 0));
  }

  /** Records meters as ours; done before they are added. */
  async record(ids: number[]): Promise<void> {
    // --no-wait: external_ids are nothing ovs-vswitchd applies; waiting would cost a reconfiguration.
    if (ids.length) await this.vsctl(['--no-wait', ...ids.flatMap((id) => ['--', 'set', 'Bridge', this.bridge, `external_ids:${KEY}${id}=owned`])]);
  }

  /** Takes meters out of the record; done after they are deleted (or were never added). */
  async forget(ids: number[]): Promise<void> {
    if (ids.length) await this.vsctl(['--no-wait', ...ids.flatMap((id) => ['--', 'remove', 'Bridge', this.bridge, 'external_ids', `${KEY}${id}`])]);
  }
}
