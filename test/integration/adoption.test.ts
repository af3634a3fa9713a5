// `wimaxvm adopt` and `initvms` through main() on libvirt's test driver (in this process, shared
// with the controller the test runs), in file mode and through the API-server double: the domain's
// definition is unchanged but for the metadata element, the controller then keeps it with no
// mutating libvirt call, a domain nobody adopted is never touched, a changed declaration replaces
// the definition by the usual rules, and a removed one releases the domain.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnection, type Connection } from '../../src/adapters/libvirt/native.js';
import { buildConfig } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startController, type RunningController } from '../../src/main.js';
import { callCounts, countsSince, isMutatingLibvirtCall } from '../../src/observability/call-counters.js';
import { parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
import { cli } from '../helpers/run-cli.js';
import { ovsTestsEnabled } from '../helpers/ovs-testbed.js';
import { startCluster } from '../kube/cluster-fixture.js';
import type { FakeApiServer } from '../kube/api-server.js';

const run = Math.random().toString(36).slice(2, 6);
const mac = (i: number) => `52:54:00:ad:${run.charCodeAt(0).toString(16).slice(-2)}:${(16 + i).toString(16)}`;

function handMade(name: string, i: number, disk?: string): string {
  return `<domain type='test'><name>${name}</name><memory unit='MiB'>96</memory><vcpu>2</vcpu><os><type>hvm</type></os><devices>
${disk ? `<disk type='file' device='disk'><source file='${disk}'/><target dev='vda'/></disk>` : ''}
<interface type='user'><mac address='${mac(i)}'/></interface></devices></domain>`;
}

/** The definition without its <metadata> (libvirt leaves an empty <metadata/> once the claim is taken back). */
const withoutMetadata = (xml: string) => xml.replace(/\s*<metadata>[\s\S]*?<\/metadata>|\s*<metadata\/>/, '');
const mutating = (since: ReturnType<typeof callCounts>) => Object.fromEntries([...countsSince(since).libvirt].filter(([call]) => isMutatingLibvirtCall(call)));

describe('adoption on test:///default', () => {
  let conn: Connection;
  let h: Harness;
  let images: string;
  const [KEPT, CHANGED, RELEASED, TAKEN, LEGACY] = ['kept', 'changed', 'released', 'taken', 'legacy'].map((n) => `ad-${n}-${run}`) as [string, string, string, string, string];
  const xml = async (name: string, inactive = true) => (await conn.lookupDomainByName(name)).getXmlDesc({ inactive });
  const before: Record<string, string> = {};

  beforeAll(async () => {
    conn = await openConnection('test:///default');
    h = await Harness.create();
    images = join(h.dir, '..', 'images');
    mkdirSync(images);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(images, 'disk.qcow2'), '1M']); // the controller checks it is one
    h.flags = { 'image-dir': images, 'shutdown-timeout': '1s' };
    for (const [i, name] of [KEPT, CHANGED, RELEASED, TAKEN, LEGACY].entries()) {
      const d = await conn.defineDomain(handMade(name, i, i === 0 ? join(images, 'disk.qcow2') : undefined));
      if (name !== RELEASED) await d.create();
      before[name] = await xml(name);
    }
  });
  afterAll(async () => {
    await h.dispose();
    for (const name of [KEPT, CHANGED, RELEASED, TAKEN, LEGACY]) {
      const d = await conn.lookupDomainByName(name);
      if (await d.isActive()) await d.destroy();
      await d.undefine();
    }
    await conn.close();
  });

  it('adopt: declarations written, the definitions unchanged but the metadata; refusals say why and change nothing', async () => {
    const r = await cli('adopt', KEPT, CHANGED, RELEASED, `nope-${run}`, '--dir', h.dir, '--connect', 'test:///default', '--image-dir', images);
    expect(r.code).toBe(1); // one refused
    expect(r.err).toBe(`error: domain nope-${run} not adopted: no libvirt domain nope-${run} on test:///default\n`);
    expect(r.out).toContain(`virtualmachine/${KEPT} adopted: domain ${KEPT} (96Mi, 2 vCPUs, disks disk.qcow2, mac ${mac(0)}, runStrategy Always) claimed through its metadata, declared in ${h.dir}/virtualmachine-default-${KEPT}.yaml`);
    expect(r.out).toContain(`virtualmachine/${RELEASED} adopted: domain ${RELEASED} (96Mi, 2 vCPUs, no disks, mac ${mac(2)}, runStrategy Halted)`);
    for (const name of [KEPT, CHANGED, RELEASED]) {
      const now = await xml(name);
      expect(withoutMetadata(now)).toBe(withoutMetadata(before[name]!));
      expect(parseDomainXml(now).owner).toMatchObject({ name, namespace: 'default', adopted: true });
      expect(readFileSync(join(h.dir, `virtualmachine-default-${name}.yaml`), 'utf8')).toContain(`mac: ${mac([KEPT, CHANGED, RELEASED].indexOf(name))}`);
    }
    const again = await cli('adopt', KEPT, '--dir', h.dir, '--connect', 'test:///default', '--image-dir', images);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already a wimaxvm VM \(default\/ad-kept-\w+, controller file:\/\//);
    const dry = await cli('adopt', TAKEN, '--connect', 'test:///default', '--dry-run', '-o', 'yaml'); // no --dir needed: nothing is written
    expect(dry.code).toBe(0);
    expect(dry.out).toBe(`apiVersion: wimaxvm.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: ${TAKEN}\n  namespace: default\nspec:\n  runStrategy: Always\n  memory: 96Mi\n  vcpus: 2\n  network:\n    mac: ${mac(3)}\n`);
    expect(await xml(TAKEN)).toBe(before[TAKEN]);
  });

  it('the controller keeps an adopted domain as it is: no mutating libvirt call; a domain nobody adopted is left alone', async () => {
    h.write('taken.yaml', vmYaml({ name: TAKEN }));
    const counted = callCounts();
    await h.start();
    await h.waitForStatus(KEPT, 'Running');
    await h.waitForStatus(CHANGED, 'Running');
    await h.waitForStatus(RELEASED, 'Stopped');
    await eventually(() => h.status(TAKEN)?.conditions.some((c) => c.reason === 'DomainNameTaken'), 'DomainNameTaken');
    await h.settle();
    h.running!.resync();
    await h.running!.idle();
    expect(mutating(counted)).toEqual({});
    expect(h.status(KEPT)?.conditions.find((c) => c.type === 'Adopted')).toMatchObject({ status: 'True', reason: 'OwnDefinition' });
    expect(withoutMetadata(await xml(KEPT))).toBe(withoutMetadata(before[KEPT]!));
    expect(await xml(TAKEN)).toBe(before[TAKEN]);
    expect(await xml(LEGACY)).toBe(before[LEGACY]);
  });

  it('a changed declaration: wimaxvm\'s definition replaces the domain\'s own (Manual: RestartRequired, the guest keeps running)', async () => {
    const id = await (await conn.lookupDomainByName(CHANGED)).getId();
    const file = join(h.dir, `virtualmachine-default-${CHANGED}.yaml`);
    h.write(`virtualmachine-default-${CHANGED}.yaml`, readFileSync(file, 'utf8').replace('memory: 96Mi', 'memory: 128Mi').replace('runStrategy: Always', 'runStrategy: Manual'));
    await eventually(() => h.status(CHANGED)?.conditions.some((c) => c.type === 'RestartRequired'), 'RestartRequired');
    const owner = parseDomainXml(await xml(CHANGED)).owner;
    expect(owner?.adopted).toBeUndefined(); // wimaxvm's definition now
    expect(parseDomainXml(await xml(CHANGED)).facts.memoryKiB).toBe(128 * 1024);
    expect(await (await conn.lookupDomainByName(CHANGED)).getId()).toBe(id);
    expect(h.status(CHANGED)?.conditions.find((c) => c.type === 'Adopted')?.reason).not.toBe('OwnDefinition');
  });

  it('a removed declaration releases the adopted domain, untouched', async () => {
    const claimed = await xml(RELEASED);
    h.remove(`virtualmachine-default-${RELEASED}.yaml`);
    await eventually(() => h.status(RELEASED) === undefined, 'its status gone');
    await h.settle();
    expect(await xml(RELEASED)).toBe(claimed);
  });

  it('initvms adopts the running domains nobody declared, in the old service\'s lines', async () => {
    await h.stop();
    const r = await cli('initvms', '--dir', h.dir, '--connect', 'test:///default', '--image-dir', images);
    // TAKEN is declared already (its adoption is refused), LEGACY is adopted; the test driver's own domain "test" too.
    expect(r.out).toContain(`${LEGACY} VLANid  -         mac address='${mac(4)}'/\n`);
    expect(r.err).toMatch(new RegExp(`domain ${TAKEN} not adopted: VirtualMachine/default/${TAKEN} is declared already`));
    expect(r.out).not.toContain(KEPT); // a wimaxvm VM already: passed over quietly
    expect(r.code).toBe(1);
    expect(withoutMetadata(await xml(TAKEN))).toBe(before[TAKEN]); // its claim was taken back
    expect(parseDomainXml(await xml(TAKEN)).owner).toBeUndefined();
  });
});

// The VLAN of a guest on Open vSwitch is its port's access tag (libvirt's XML has none when OVS
// tagged the port itself): read from a real OVSDB, for a test-driver domain whose NIC names the port.
describe.runIf(ovsTestsEnabled())('adoption of a guest on Open vSwitch', () => {
  const bridge = `wxad${run}`;
  const port = `wxadp${run}`;
  const NAME = `ad-ovs-${run}`;
  let conn: Connection;
  let dir: string;

  beforeAll(async () => {
    execFileSync('ovs-vsctl', ['--timeout=20', 'add-br', bridge, '--', 'set', 'Bridge', bridge, 'datapath_type=netdev',
      '--', 'add-port', bridge, port, 'tag=23', '--', 'set', 'Interface', port, 'type=internal']);
    conn = await openConnection('test:///default');
    await (await conn.defineDomain(`<domain type='test'><name>${NAME}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>
<interface type='bridge'><mac address='${mac(7)}'/><source bridge='${bridge}'/><virtualport type='openvswitch'/><target dev='${port}'/></interface></devices></domain>`)).create();
    dir = mkdtempSync(join(tmpdir(), 'wimaxvm-adopt-ovs-'));
  });
  afterAll(async () => {
    const d = await conn.lookupDomainByName(NAME);
    await d.destroy();
    await d.undefine();
    await conn.close();
    execFileSync('ovs-vsctl', ['--timeout=20', '--if-exists', 'del-br', bridge]);
  });

  it('declares the port\'s tag as the VM\'s VLAN', async () => {
    const r = await cli('adopt', NAME, '--dir', dir, '--connect', 'test:///default', '--dry-run', '-o', 'yaml');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`network:\n    mac: ${mac(7)}\n    vlan: 23\n`);
  });
});

describe('adoption through the API-server double', () => {
  let server: FakeApiServer;
  let kubeconfig: string;
  let conn: Connection;
  let controller: RunningController | undefined;
  const NAME = `ad-kube-${run}`;

  beforeAll(async () => {
    ({ server, kubeconfig } = await startCluster());
    conn = await openConnection('test:///default');
    await (await conn.defineDomain(handMade(NAME, 9))).create();
  });
  afterAll(async () => {
    await controller?.stop();
    const d = await conn.lookupDomainByName(NAME);
    if (await d.isActive()) await d.destroy();
    await d.undefine();
    await conn.close();
    await server.stop();
  });

  it('declares it in the cluster; the controller keeps it with no mutating call', async () => {
    const inactive = await (await conn.lookupDomainByName(NAME)).getXmlDesc({ inactive: true });
    const r = await cli('adopt', NAME, '--source', 'kube', '--kubeconfig', kubeconfig, '--connect', 'test:///default');
    expect(r.err).toBe('');
    expect(r.out).toMatch(new RegExp(`virtualmachine/${NAME} adopted: .* declared in the cluster`));
    const api = server.kubeConfig().makeApiClient(CustomObjectsApi);
    const object = await api.getNamespacedCustomObject({ group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default', name: NAME }) as { spec: unknown };
    expect(object.spec).toEqual({ runStrategy: 'Always', memory: '96Mi', vcpus: 2, network: { mac: mac(9) } });
    const owner = parseDomainXml(await (await conn.lookupDomainByName(NAME)).getXmlDesc({ inactive: true })).owner;
    expect(owner).toMatchObject({ adopted: true });
    expect(owner?.controller).toBeUndefined(); // the controller that declares it takes it

    const counted = callCounts();
    const config = buildConfig({ source: 'kube', kubeconfig, connect: 'test:///default', 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-adopt-kube-')), listen: 'off', poll: '100ms', resync: '10m' });
    controller = await startController(config, silentLogger);
    await eventually(async () => {
      const o = await api.getNamespacedCustomObject({ group: 'wimaxvm.io', version: 'v1alpha1', plural: 'virtualmachines', namespace: 'default', name: NAME }) as { status?: { printableStatus?: string } };
      return o.status?.printableStatus === 'Running';
    }, 'Running in the cluster');
    await controller.idle();
    expect(mutating(counted)).toEqual({});
    expect(withoutMetadata(await (await conn.lookupDomainByName(NAME)).getXmlDesc({ inactive: true }))).toBe(withoutMetadata(inactive));
  });
});
