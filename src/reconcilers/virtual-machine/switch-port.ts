// The VM's port on Open vSwitch: it carries the VM's VLAN as its access tag (set through OVSDB,
// so a VLAN change needs no restart and a tag changed by hand is put back), and the switch
// carries the slice's rates. VLANs a VM moved away from are given back once its port moved.
import type { ResourceKey } from '../../api/meta.js';
import type { VirtualMachine } from '../../api/virtual-machine.js';
import type { VlanAllocator } from '../../allocators/vlan-allocator.js';
import { errorMessage, type Logger } from '../../core/logger.js';
import { TerminalError } from '../../core/result.js';
import type { Datapath, SlicePath } from '../../ports/datapath.js';
import type { EventRecorder } from '../../ports/event-recorder.js';
import type { VlanClaims } from '../../ports/vlan-claims.js';
import { vmPortName } from './domain-xml.js';
import { desiredSlicePath, sameSlicePath } from './slice-network.js';

export interface SwitchPortDeps {
  datapath?: Datapath;
  vlans: VlanAllocator;
  vlanClaims: VlanClaims;
  events: EventRecorder;
  logger: Logger;
  shapingEnabled?: (namespace: string) => boolean;
}

export class SwitchPorts {
  constructor(private readonly deps: SwitchPortDeps) {}

  /**
   * The running VM's switch port carries its VLAN, and the switch its slice rates. The tag is
   * compared with what OVSDB says (not libvirt's live XML, which keeps the tag the guest started
   * with), so a tag changed by hand is repaired and a VLAN change needs no restart.
   */
  async sync(
    key: ResourceKey, vm: VirtualMachine, domainName: string, vlan: number, previousVlan: number | undefined,
    /** wimaxvm's name for it, unless the domain is adopted (src/adoption/adopted-port.ts). */
    portName = vmPortName(domainName),
  ): Promise<{ slice?: SlicePath } | undefined> {
    const datapath = this.deps.datapath!;
    const actual = await datapath.getPort(portName);
    if (!actual) return undefined; // not on the bridge (yet): the next look repairs it
    if (actual.tag !== vlan) {
      await datapath.setPort(portName, { tag: vlan });
      const what = `VLAN ${actual.tag ?? 'none'} → ${vlan}`;
      this.deps.events.record(key, 'Normal', 'PortUpdated', `switch port ${portName}: ${what}`);
      this.deps.logger.info(`port ${portName} updated: ${what}`, { key });
    }
    if (previousVlan !== undefined && previousVlan !== vlan) await this.dropSlicePath(domainName, previousVlan, portName);
    let desired: SlicePath | undefined;
    try {
      desired = desiredSlicePath(vlan, portName, vm.spec.network?.shaping, this.deps.shapingEnabled?.(vm.metadata.namespace) ?? true);
    } catch (err) {
      throw new TerminalError('InvalidShaping', errorMessage(err));
    }
    const current = datapath.slicePath(vlan);
    if (!sameSlicePath(current, desired)) {
      if (desired) await datapath.applySlicePath(desired);
      else await datapath.removeSlicePath(vlan);
      this.deps.logger.info(`slice rates of ${portName} ${desired ? 'set' : 'removed'}`, { key, vlan });
    }
    return desired ? { slice: desired } : {};
  }

  /** The VM's port carries its current VLAN (or it has none): the ones it moved away from go back, here and testbed-wide. */
  async settleVlans(key: ResourceKey, uid: string): Promise<void> {
    for (const vlan of this.deps.vlans.movingFrom(key)) await this.deps.vlanClaims.release(vlan, uid);
    this.deps.vlans.settle(key);
  }

  /** The VM is gone from here: its VLANs go back (testbed-wide first, so a failure leaves them held and is retried). */
  async releaseVlans(key: ResourceKey, uid: string | undefined): Promise<void> {
    if (uid) for (const vlan of this.deps.vlans.held(key)) await this.deps.vlanClaims.release(vlan, uid);
    this.deps.vlans.release(key);
  }

  /** Removes the slice rates this VM's port had on `vlan` (it stopped, moved VLAN, or went). */
  async dropSlicePath(domainName: string, vlan: number, portName = vmPortName(domainName)): Promise<void> {
    const datapath = this.deps.datapath;
    if (datapath?.slicePath(vlan)?.vmPort === portName) await datapath.removeSlicePath(vlan);
  }
}
