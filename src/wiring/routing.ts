// Which reconciles a change of desired state calls for: a VM's own and its stations'; a
// station's and those its MAC competes with; every VM and station of a namespace whose
// ShapingPolicy changed.
import { parseResourceKey } from '../api/meta.js';
import { SHAPING_POLICY_KIND } from '../api/shaping-policy.js';
import { VM_KIND } from '../api/virtual-machine.js';
import { CLIENT_KIND } from '../api/wimax-client.js';
import type { Controller } from '../core/controller.js';
import type { DesiredStore } from '../core/desired-store.js';
import type { ClientIndex } from '../reconcilers/wimax-client/client-index.js';

export function routeChanges(store: DesiredStore, clientIndex: ClientIndex, vms: Controller, clients: Controller): void {
  const inNamespace = (namespace: string, kind: string) => [...store.keys()].filter((k) => k.startsWith(`${kind}/${namespace}/`));
  store.onChange((key) => {
    const { kind, namespace } = parseResourceKey(key);
    if (kind === VM_KIND) {
      vms.enqueue(key);
      clientIndex.clientsOfVm(key).forEach((k) => clients.enqueue(k));
    } else if (kind === CLIENT_KIND) {
      clientIndex.update(key).forEach((k) => clients.enqueue(k));
    } else if (kind === SHAPING_POLICY_KIND) {
      inNamespace(namespace, VM_KIND).forEach((k) => vms.enqueue(k));
      inNamespace(namespace, CLIENT_KIND).forEach((k) => clients.enqueue(k));
    }
  });
}
