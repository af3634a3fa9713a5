// Whether `wimaxvm console` may attach to a domain, and if not, the one line that says why.
// Pure: decided from what libvirt answered.
import { parseDomainXml } from '../reconcilers/virtual-machine/domain-xml.js';
import type { DomainView } from './console-port.js';

export interface VmRef {
  namespace: string;
  name: string;
  domainName: string;
  uri: string;
}

/** Why the VM's console cannot be attached; undefined when it can. */
export function consoleRefusal(vm: VmRef, domain: DomainView | undefined, verb = 'attach to its console'): string | undefined {
  const which = vm.namespace === 'default' ? `VM ${vm.name}` : `VM ${vm.namespace}/${vm.name}`;
  if (!domain) {
    return `${which}: no libvirt domain ${vm.domainName} on ${vm.uri}: the VM is not declared, or its controller has not defined it yet (wimaxvm get vms; --connect names the controller's libvirt URI)`;
  }
  const owner = parseDomainXml(domain.persistentXml).owner;
  if (!owner || owner.namespace !== vm.namespace || owner.name !== vm.name) {
    return `${which}: the libvirt domain ${vm.domainName} is not a wimaxvm VM (no wimaxvm metadata for ${vm.namespace}/${vm.name}); adopt it first (wimaxvm adopt ${vm.domainName}) or use virsh`;
  }
  if (domain.state !== 'running' && domain.state !== 'paused' && domain.state !== 'blocked') {
    return `${which} is not running (domain ${vm.domainName} is ${domain.state}): cannot ${verb}; start it with wimaxvm start ${vm.name}`;
  }
  return undefined;
}
