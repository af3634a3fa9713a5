// What a person does with virsh behind the controller's back, through a raw libvirt connection
// of its own (no deletion gate: a person needs none).
import { openConnection, type Domain } from '../../src/adapters/libvirt/native.js';

/** One call on a domain, on a connection opened and closed for it. */
async function byHand(uri: string, name: string, fn: (d: Domain) => Promise<void>): Promise<void> {
  const conn = await openConnection(uri);
  try {
    await fn(await conn.lookupDomainByName(name));
  } finally {
    await conn.close();
  }
}

export function undefineByHand(uri: string, name: string): Promise<void> {
  return byHand(uri, name, (d) => d.undefine());
}

/** `virsh destroy`: the guest's QEMU is killed (reason 'destroyed'). */
export function destroyByHand(uri: string, name: string): Promise<void> {
  return byHand(uri, name, (d) => d.destroy());
}

/** `virsh shutdown`: an ACPI request; on the test driver the guest powers off at once (reason 'shutdown'). */
export function shutdownByHand(uri: string, name: string): Promise<void> {
  return byHand(uri, name, (d) => d.shutdown());
}
