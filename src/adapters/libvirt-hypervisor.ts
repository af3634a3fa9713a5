// TODO(lead): only bench/converge.ts still imports this path; delete this file when the bench moves to src/adapters/libvirt/.
export { LibvirtHypervisor, defaultDomainType, type LibvirtHypervisorOptions } from './libvirt/libvirt-hypervisor.js';
