// What the binding's tests share: domain XML for the test driver and for QEMU, unique names,
// an expectation that a promise rejects with a given libvirt error code, and an event recorder.
import { expect } from 'vitest';
import { eventually } from '../helpers/harness.js';
import type { Connection, DomainEvent, LibvirtError } from '../../src/adapters/libvirt/native.js';

const run = Math.random().toString(36).slice(2, 7);
let seq = 0;
/** A domain or network name no other test (nor a parallel run) uses. */
export const uniqueName = (what: string): string => `lb-${what}-${run}-${++seq}`;

/** A domain of the test driver with one disk (vda) and one NIC. */
export function testDomainXml(name: string, opts: { memoryKiB?: number; vcpus?: number; maxVcpus?: number; mac?: string } = {}): string {
  const mem = opts.memoryKiB ?? 65536;
  return `<domain type='test'><name>${name}</name><memory unit='KiB'>${mem}</memory><currentMemory unit='KiB'>${mem}</currentMemory>
<vcpu placement='static' current='${opts.vcpus ?? 1}'>${opts.maxVcpus ?? 2}</vcpu><os><type>hvm</type></os>
<devices><disk type='file' device='disk'><source file='/tmp/${name}.img'/><target dev='vda' bus='virtio'/></disk>
<interface type='network'><mac address='${opts.mac ?? '52:54:00:aa:bb:01'}'/><source network='default'/></interface></devices></domain>`;
}

/** A QEMU guest with no OS and no disk: it reaches "running", which is all these tests need. */
export function qemuDomainXml(name: string): string {
  return `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>
<devices><serial type='pty'/><console type='pty'/></devices></domain>`;
}

/** Asserts that p rejects with a LibvirtError of codeName, and returns it. */
export async function rejectsWith(p: Promise<unknown>, codeName: string): Promise<LibvirtError> {
  const err = await p.then(() => new Error(`expected ${codeName}, the call succeeded`), (e: unknown) => e);
  expect(err).toMatchObject({ name: 'LibvirtError', codeName });
  return err as LibvirtError;
}

/** Records a connection's domain events of one domain. */
export class EventLog {
  readonly events: DomainEvent[] = [];
  readonly unsubscribe: () => void;

  constructor(conn: Connection, private readonly name: string) {
    this.unsubscribe = conn.onDomainEvent((e) => {
      if (e.name === name) this.events.push(e);
    });
  }

  lifecycle(): string[] {
    return this.events.flatMap((e) => (e.kind === 'lifecycle' ? [`${e.event}/${e.detail}`] : []));
  }

  /** Waits until a lifecycle event event/detail arrived. */
  async waitFor(eventDetail: string, timeoutMs?: number): Promise<void> {
    await eventually(() => this.lifecycle().includes(eventDetail), `${this.name}: lifecycle ${eventDetail} (have ${this.lifecycle().join(', ')})`, timeoutMs);
  }
}
