// Which stations claim which MAC and which VM, kept current from the desired store, so a
// reconcile finds duplicates and a VM's stations without scanning every client.
import { parseResourceKey, resourceKey, type ResourceKey } from '../../api/meta.js';
import { VM_KIND } from '../../api/virtual-machine.js';
import { CLIENT_KIND, type WimaxClient } from '../../api/wimax-client.js';
import { canonicalMac } from '../../allocators/mac-allocator.js';
import type { DesiredStore } from '../../core/desired-store.js';

export class ClientIndex {
  private readonly macOf = new Map<ResourceKey, string>();
  private readonly vmOf = new Map<ResourceKey, ResourceKey>();
  private readonly byMac = new Map<string, Set<ResourceKey>>();
  private readonly byVm = new Map<ResourceKey, Set<ResourceKey>>();

  constructor(private readonly store: DesiredStore) {}

  /** Updates the entry of one client key; returns the keys whose situation may have changed with it. */
  update(key: ResourceKey): ResourceKey[] {
    const client = this.store.get<WimaxClient>(key);
    const affected = new Set<ResourceKey>([key]);
    const oldMac = this.macOf.get(key);
    const oldVm = this.vmOf.get(key);
    if (oldMac !== undefined) for (const k of this.drop(this.byMac, oldMac, key)) affected.add(k);
    if (oldVm !== undefined) this.drop(this.byVm, oldVm, key);
    this.macOf.delete(key);
    this.vmOf.delete(key);
    if (client) {
      const { namespace } = parseResourceKey(key);
      const mac = canonicalMac(client.spec.mac);
      const vm = resourceKey(VM_KIND, namespace, client.spec.vmName);
      this.macOf.set(key, mac);
      this.vmOf.set(key, vm);
      for (const k of this.add(this.byMac, mac, key)) affected.add(k);
      this.add(this.byVm, vm, key);
    }
    return [...affected];
  }

  /** Other clients declaring the same MAC. */
  duplicatesOf(key: ResourceKey): ResourceKey[] {
    const mac = this.macOf.get(key);
    return mac === undefined ? [] : [...(this.byMac.get(mac) ?? [])].filter((k) => k !== key);
  }

  /** Clients that claim `mac` (any namespace). */
  claimsOf(mac: string): ResourceKey[] {
    return [...(this.byMac.get(canonicalMac(mac)) ?? [])];
  }

  clientsOfVm(vmKey: ResourceKey): ResourceKey[] {
    return [...(this.byVm.get(vmKey) ?? [])];
  }

  static isClientKey(key: ResourceKey): boolean {
    return key.startsWith(`${CLIENT_KIND}/`);
  }

  private add(index: Map<string, Set<ResourceKey>>, at: string, key: ResourceKey): Set<ResourceKey> {
    let set = index.get(at);
    if (!set) index.set(at, (set = new Set()));
    set.add(key);
    return set;
  }

  private drop(index: Map<string, Set<ResourceKey>>, at: string, key: ResourceKey): Set<ResourceKey> {
    const set = index.get(at);
    if (!set) return new Set();
    set.delete(key);
    if (set.size === 0) index.delete(at);
    return set;
  }
}
