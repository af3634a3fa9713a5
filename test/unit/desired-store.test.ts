import { describe, expect, it } from 'vitest';
import type { Resource } from '../../src/api/meta.js';
import { DesiredStore } from '../../src/core/desired-store.js';

const object = (kind: string, name: string): Resource<unknown, unknown> =>
  ({ apiVersion: 'wimaxvm.io/v1alpha1', kind, metadata: { name, namespace: 'default', uid: name, generation: 1, creationTimestamp: '' }, spec: {} });

describe('DesiredStore.keysOf', () => {
  it('lists the keys of one kind, in one namespace when asked, as they come and go', () => {
    const store = new DesiredStore();
    store.set('VirtualMachine/default/a', object('VirtualMachine', 'a'));
    store.set('VirtualMachine/lab/b', object('VirtualMachine', 'b'));
    store.set('IPPool/default/p', object('IPPool', 'p'));
    store.set('Hypervisor//hv-1', object('Hypervisor', 'hv-1'));
    expect(store.keysOf('VirtualMachine').sort()).toEqual(['VirtualMachine/default/a', 'VirtualMachine/lab/b']);
    expect(store.keysOf('VirtualMachine', 'lab')).toEqual(['VirtualMachine/lab/b']);
    expect(store.keysOf('IPPool', 'default')).toEqual(['IPPool/default/p']);
    expect(store.keysOf('Hypervisor')).toEqual(['Hypervisor//hv-1']);
    expect(store.keysOf('WimaxClient')).toEqual([]);

    store.set('VirtualMachine/default/a', object('VirtualMachine', 'a')); // replaced, not listed twice
    store.delete('VirtualMachine/lab/b');
    store.delete('VirtualMachine/lab/never');
    expect(store.keysOf('VirtualMachine')).toEqual(['VirtualMachine/default/a']);
    expect(store.keysOf('VirtualMachine', 'lab')).toEqual([]);
    // A namespace that is a prefix of another is not mixed in.
    store.set('VirtualMachine/default-2/c', object('VirtualMachine', 'c'));
    expect(store.keysOf('VirtualMachine', 'default')).toEqual(['VirtualMachine/default/a']);
  });
});
