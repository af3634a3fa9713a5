// What a person does with virsh behind the controller's back, through a raw libvirt connection
// of its own (no deletion gate: a person needs none).
import { Hypervisor } from '@unraid/libvirt';

export async function undefineByHand(uri: string, name: string): Promise<void> {
  const conn = new Hypervisor({ uri });
  await conn.connectOpen();
  try {
    await conn.domainUndefine(await conn.domainLookupByName(name));
  } finally {
    await conn.connectClose();
  }
}
