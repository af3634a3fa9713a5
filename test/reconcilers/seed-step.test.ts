// The seed step in the whole VM reconcile (VM_STEPS over fakes): which VMs get a seed, the CD-ROM
// in the definition, a seed made again only when its content changes, a content change that
// redefines without restarting, and bad cloud-init input that stops nothing.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findCondition } from '../../src/api/meta.js';
import type { VirtualMachineSpec } from '../../src/api/virtual-machine.js';
import { parseDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';
import { VM_STEPS } from '../../src/reconcilers/virtual-machine/steps/index.js';
import type { SeedAddress } from '../../src/seed/network-config.js';
import { FakeSeedImages } from '../fakes/fake-seed-images.js';
import { stepHarness, vmNamed } from '../helpers/vm-steps.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN alice@lab';

function setup(addresses: Record<string, SeedAddress> = {}) {
  const seeds = new FakeSeedImages();
  const asked: (string | undefined)[] = [];
  const h = stepHarness({ seeds, seedAddress: (vm, ip) => { asked.push(ip); return addresses[vm.metadata.name]; } });
  const cdrom = (name: string) => /<disk type="file" device="cdrom">[\s\S]*?<source file="([^"]+)"/.exec(h.hv.peek(name)?.persistentXml ?? '')?.[1];
  return { h, seeds, asked, cdrom };
}

describe('the seed step', () => {
  it('a VM with neither cloudInit nor an address gets no seed and no CD-ROM', async () => {
    const { h, seeds, cdrom } = setup();
    const out = await h.run(VM_STEPS, vmNamed('plain'));
    expect(out.status?.printableStatus).toBe('Running');
    expect(seeds.writes).toBe(0);
    expect(cdrom('plain')).toBeUndefined();
    expect(findCondition(out.status!.conditions, 'SeedReady')).toBeUndefined();
  });

  it.each<[string, Partial<VirtualMachineSpec>, Record<string, SeedAddress>, string[]]>([
    ['spec.cloudInit', { cloudInit: { hostname: 'box1', sshAuthorizedKeys: [KEY] } }, {}, ['meta-data', 'user-data']],
    ['an address only', {}, { s1: { address: '10.41.0.7', prefixLength: 24, gateway: '10.41.0.1' } }, ['meta-data', 'network-config', 'user-data']],
  ])('a VM with %s gets a seed on a CD-ROM before it is first started', async (_, spec, addresses, files) => {
    const { h, seeds, cdrom } = setup(addresses);
    const out = await h.run(VM_STEPS, vmNamed('s1', spec));
    expect(out.error).toBeUndefined();
    expect(out.status?.printableStatus).toBe('Running');
    expect(cdrom('s1')).toBe(seeds.seedPath('s1'));
    expect(Object.keys(seeds.seeds.get('s1')!.files).sort()).toEqual(files);
    expect(h.hv.ops('s1')).toEqual(['define', 'start']);
    expect(findCondition(out.status!.conditions, 'SeedReady')).toMatchObject({ status: 'True', reason: 'SeedBuilt' });
    // The disks the controller compares are only the VM's own.
    expect(parseDomainXml(h.hv.peek('s1')!.persistentXml).facts.diskPaths).toEqual([]);
  });

  it('network-config matches the MAC the domain has, and the address the ip step holds is what the pools are asked about', async () => {
    const { h, seeds, asked } = setup({ s2: { address: '10.41.0.8', prefixLength: 24 } });
    await h.run([{ name: 'ip', run: (ctx) => { ctx.ip = '10.41.0.8'; } }, ...VM_STEPS.filter((s) => s.name !== 'ip')], vmNamed('s2'));
    expect(asked).toEqual(['10.41.0.8']);
    const mac = parseDomainXml(h.hv.peek('s2')!.persistentXml).facts.nics[0]!.mac;
    expect(parse(seeds.seeds.get('s2')!.files['network-config']!).ethernets.nic0.match.macaddress).toBe(mac);
  });

  it('the same spec again writes nothing and redefines nothing; a new hostname makes a new seed and redefines the running domain without a restart', async () => {
    const { h, seeds } = setup();
    await h.run(VM_STEPS, vmNamed('s3', { cloudInit: { hostname: 'box3' } }));
    h.hv.clearCalls();
    let out = await h.run(VM_STEPS, vmNamed('s3', { cloudInit: { hostname: 'box3' } }));
    expect(seeds.writes).toBe(1);
    expect(h.hv.ops('s3')).toEqual([]);
    out = await h.run(VM_STEPS, vmNamed('s3', { cloudInit: { hostname: 'box3b' } }, 2));
    expect(seeds.writes).toBe(2);
    expect(seeds.seeds.get('s3')!.files['meta-data']).toContain('local-hostname: box3b');
    expect(h.hv.ops('s3')).toEqual(['define']);
    expect(h.hv.peek('s3')!.state).toBe('running');
    expect(findCondition(out.status!.conditions, 'RestartRequired')).toBeUndefined();
  });

  it('cloudInit taken away: the CD-ROM leaves the definition and SeedReady goes', async () => {
    const { h, cdrom } = setup();
    await h.run(VM_STEPS, vmNamed('s4', { cloudInit: {} }));
    expect(cdrom('s4')).toBeDefined();
    const out = await h.run(VM_STEPS, vmNamed('s4', {}, 2));
    expect(cdrom('s4')).toBeUndefined();
    expect(findCondition(out.status!.conditions, 'SeedReady')).toBeUndefined();
  });

  it('userData that cannot be combined: Failed with InvalidCloudInit, and the running guest is left alone', async () => {
    const { h, seeds } = setup();
    await h.run(VM_STEPS, vmNamed('s5', { cloudInit: { hostname: 'box5' } }));
    h.hv.clearCalls();
    const out = await h.run(VM_STEPS, vmNamed('s5', { cloudInit: { hostname: 'box5', userData: '#cloud-config\nhostname: other\n' } }, 2));
    expect(out.error).toBeUndefined(); // terminal: no retry until the spec changes
    expect(out.status?.printableStatus).toBe('Failed');
    expect(findCondition(out.status!.conditions, 'SeedReady')).toMatchObject({ status: 'False', reason: 'InvalidCloudInit' });
    expect(findCondition(out.status!.conditions, 'Ready')?.message).toMatch(/sets hostname "other"/);
    expect(h.hv.ops('s5')).toEqual([]);
    expect(h.hv.peek('s5')!.state).toBe('running');
    expect(seeds.writes).toBe(1);
  });

  it('a seed that cannot be written is retried, and a new VM is not started without it', async () => {
    const { h, seeds } = setup();
    seeds.failNext = new Error('genisoimage: No space left on device');
    const out = await h.run(VM_STEPS, vmNamed('s6', { cloudInit: {} }));
    expect(String(out.error)).toMatch(/No space left/);
    expect(h.hv.ops('s6')).toEqual([]);
    const again = await h.run(VM_STEPS, vmNamed('s6', { cloudInit: {} }));
    expect(again.error).toBeUndefined();
    expect(h.hv.ops('s6')).toEqual(['define', 'start']);
  });
});
