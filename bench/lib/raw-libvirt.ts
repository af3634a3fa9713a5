// The raw baseline: the same libvirt work done straight through the binding, no controller.
import { openConnection, type Connection } from '../../src/adapters/libvirt/native.js';
import { domainUuidFor } from '../../src/reconcilers/virtual-machine/desired-definition.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { macOf } from './manifests.js';

export type RawLibvirt = Connection;

/** The XML the controller would define for a 64 MiB, 1-vCPU VM without disks. */
export function rawXml(name: string, i: number, type: 'test' | 'kvm' | 'qemu' = 'test', memoryKiB = 65536, diskPaths: string[] = []): string {
  return buildDomainXml({
    name, uuid: domainUuidFor(`raw-${name}`), type, memoryKiB, vcpus: 1, diskPaths, mac: macOf(i, '52:54:01'),
    nic: { type: 'user' }, owner: { uid: name, namespace: 'raw', name, generation: 1, specHash: 'x', mac: '' },
  });
}

export async function openRaw(uri: string): Promise<RawLibvirt> {
  return openConnection(uri);
}

/** Defines and starts every XML, `concurrency` calls in flight; milliseconds. */
export async function defineStart(conn: RawLibvirt, xmls: string[], concurrency: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < xmls.length) {
      const d = await conn.defineDomain(xmls[next++]!);
      await d.create();
    }
  }));
  return performance.now() - t0;
}

/** Destroys and undefines the named domains (the bench's own raw ones); milliseconds. */
export async function destroyUndefine(conn: RawLibvirt, names: string[], concurrency = 8): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < names.length) {
      const d = await conn.lookupDomainByName(names[next++]!);
      await d.destroy().catch(() => undefined); // not running
      await d.undefine();
    }
  }));
  return performance.now() - t0;
}
