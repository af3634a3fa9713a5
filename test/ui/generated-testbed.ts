// A testbed made up in memory for the console's tests and figures: N slices (VMs) with a VLAN
// each and M stations spread over them, as declared objects and stored statuses.
import { API_VERSION, resourceKey, type Condition } from '../../src/api/meta.js';
import { VM_KIND, type VirtualMachine, type VirtualMachineStatus } from '../../src/api/virtual-machine.js';
import { CLIENT_KIND, type WimaxClient, type WimaxClientStatus } from '../../src/api/wimax-client.js';
import { DesiredStore } from '../../src/core/desired-store.js';
import type { TrafficSnapshot } from '../../src/traffic/traffic-feed.js';
import { FakeStatusStore } from '../fakes/fake-status-store.js';

const NOW = '2026-01-01T00:00:00Z';

function meta(name: string, namespace: string) {
  return { name, namespace, uid: `uid-${namespace}-${name}`, generation: 1, creationTimestamp: NOW };
}

export function ready(status: 'True' | 'False', reason: string, message = ''): Condition {
  return { type: 'Ready', status, reason, message, observedGeneration: 1, lastTransitionTime: NOW };
}

export function vm(name: string, namespace = 'default', vlan?: number): VirtualMachine {
  return { apiVersion: API_VERSION, kind: VM_KIND, metadata: meta(name, namespace), spec: { runStrategy: 'Always', memory: '64Mi', vcpus: 1, ...(vlan ? { network: { vlan } } : {}) } };
}

export function vmStatus(state: VirtualMachineStatus['printableStatus'], vlan: number, conditions: Condition[] = [ready('True', 'Running')]): VirtualMachineStatus {
  return { printableStatus: state, observedGeneration: 1, conditions, allocations: { vlan } };
}

export function client(name: string, mac: string, vmName: string, namespace = 'default'): WimaxClient {
  return { apiVersion: API_VERSION, kind: CLIENT_KIND, metadata: meta(name, namespace), spec: { mac, vmName } };
}

export function clientStatus(state: WimaxClientStatus['printableStatus'], vmName: string, vlan?: number, reason = state === 'Bound' ? 'Bound' : 'VMNotRunning'): WimaxClientStatus {
  return { printableStatus: state, observedGeneration: 1, vmName, ...(vlan ? { vlan } : {}), conditions: [ready(state === 'Bound' ? 'True' : 'False', reason)] };
}

export function macOf(i: number): string {
  return `02:00:${[i >> 24, i >> 16, i >> 8, i].map((b) => (b & 255).toString(16).padStart(2, '0')).join(':')}`;
}

export interface GeneratedTestbed {
  store: DesiredStore;
  statuses: FakeStatusStore;
  traffic(at: number): TrafficSnapshot;
}

/** `slices` VMs over `namespaces` namespaces, `stations` stations spread evenly, all Running and Bound. */
export function generateTestbed(slices: number, stations: number, namespaces = 4): GeneratedTestbed {
  const store = new DesiredStore();
  const statuses = new FakeStatusStore();
  const sliceOf = (i: number) => ({ name: `slice-${String(i).padStart(4, '0')}`, namespace: `ns-${i % namespaces}`, vlan: 2 + i });
  for (let i = 0; i < slices; i++) {
    const s = sliceOf(i);
    const key = resourceKey(VM_KIND, s.namespace, s.name);
    store.set(key, vm(s.name, s.namespace));
    statuses.seed(key, { ...vm(s.name, s.namespace), status: vmStatus('Running', s.vlan) });
  }
  for (let j = 0; j < stations; j++) {
    const s = sliceOf(j % slices);
    const name = `station-${String(j).padStart(5, '0')}`;
    const key = resourceKey(CLIENT_KIND, s.namespace, name);
    store.set(key, client(name, macOf(j), s.name, s.namespace));
    statuses.seed(key, { ...client(name, macOf(j), s.name, s.namespace), status: clientStatus('Bound', s.name, s.vlan) });
  }
  const counters = { uplinkBytes: 0, uplinkPackets: 0, downlinkBytes: 0, downlinkPackets: 0, droppedPackets: 0 };
  return {
    store, statuses,
    // Every station sends a little, varying with `at`; slices carry the sum of theirs.
    traffic: (at) => ({
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, at)).toISOString(), intervalMs: 1000,
      stations: Array.from({ length: stations }, (_, j) => {
        const s = sliceOf(j % slices);
        return { ...counters, namespace: s.namespace, name: `station-${String(j).padStart(5, '0')}`, vm: s.name, vlan: s.vlan, uplinkBps: 1000 * ((j + at) % 7), downlinkBps: 4000 * ((j * 3 + at) % 5) };
      }),
      slices: Array.from({ length: slices }, (_, i) => {
        const s = sliceOf(i);
        return { ...counters, namespace: s.namespace, vm: s.name, vlan: s.vlan, uplinkBps: 5000 * ((i + at) % 9), downlinkBps: 20000 * ((i + at) % 4) };
      }),
    }),
  };
}

/** A TrafficFeed the test publishes to by hand: the controller's own broadcast. */
export { TrafficBroadcast as HandFedTraffic } from '../../src/traffic/traffic-feed.js';
