// The cloud-init seed through a YAML file: the whole controller on libvirt's test driver, the
// real genisoimage. spec.cloudInit gives the domain a CD-ROM whose image holds the file's
// hostname, keys and user-data; a changed hostname makes a new image; a bad cloudInit is the
// error kubectl would give and changes nothing; a deleted file takes the seed with the overlays.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCondition } from '../../src/api/meta.js';
import { validateResource } from '../../src/api/schema.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';

const run = Math.random().toString(36).slice(2, 7);
const VM = `cidata-${run}`;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN alice@lab';
const seedYaml = (hostname: string) => vmYaml({
  name: VM,
  extra: [
    '  cloudInit:', `    hostname: ${hostname}`, '    sshAuthorizedKeys:', `      - ${KEY}`,
    '    userData: |', '      #!/bin/sh', '      echo hello from the seed > /tmp/hello',
  ].join('\n'),
});

describe('the cloud-init seed in file mode', () => {
  let h: Harness;
  const overlayFolder = () => join(h.stateDir, 'overlays', VM);
  const iso = () => join(overlayFolder(), 'cidata.iso');
  const isoFile = (path: string) => execFileSync('isoinfo', ['-i', iso(), '-J', '-x', path]).toString();

  beforeAll(async () => {
    // A second VM keeps the directory from reading as empty, which would vouch for no deletion.
    h = await Harness.create({ files: { 'other.yaml': vmYaml({ name: `other-${run}`, runStrategy: 'Halted' }) } });
    h.write('vm.yaml', seedYaml('box-a'));
    await h.start();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('the domain gets a read-only CD-ROM with the seed: hostname, keys and the file\'s script beside them', async () => {
    const status = await h.waitForStatus(VM, 'Running');
    expect(findCondition(status.conditions, 'SeedReady')).toMatchObject({ status: 'True', reason: 'SeedBuilt' });
    const xml = (await h.domain(VM))!.persistentXml;
    expect(xml).toMatch(new RegExp(`<disk type=.file. device=.cdrom.>[\\s\\S]*<source file=.${iso()}.`));
    expect(xml).toMatch(/<readonly\/>/);
    expect(isoFile('/meta-data')).toMatch(/^local-hostname: box-a$/m);
    const userData = isoFile('/user-data');
    expect(userData).toContain('Content-Type: text/cloud-config');
    expect(userData).toContain(`  - ${KEY}`);
    expect(userData).toContain('Content-Type: text/x-shellscript');
    expect(userData).toContain('echo hello from the seed > /tmp/hello');
  });

  it('a new hostname in the file makes a new seed image with a new instance-id', async () => {
    const before = isoFile('/meta-data');
    h.write('vm.yaml', seedYaml('box-b'));
    await eventually(() => /local-hostname: box-b/.test(isoFile('/meta-data')), 'the seed with box-b');
    const iid = (text: string) => /instance-id: (\S+)/.exec(text)![1];
    expect(iid(isoFile('/meta-data'))).not.toBe(iid(before));
    expect((await h.domain(VM))!.state).toBe('running');
  });

  it('a bad cloudInit is refused as the API server would refuse it', () => {
    const doc = { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: VM }, spec: { memory: '64Mi', cloudInit: { hostname: 'Box_C', sshAuthorizedKeys: ['a\nb'] } } };
    const result = validateResource(doc);
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.errors.map((e) => e.message);
    expect(messages.some((m) => m.startsWith('spec.cloudInit.hostname: Invalid value: "Box_C"'))).toBe(true);
    expect(messages.some((m) => m.startsWith('spec.cloudInit.sshAuthorizedKeys[0]: Invalid value'))).toBe(true);
  });

  it('a VM with a pooled address gets it in the seed\'s network config, with the pool\'s prefix, gateway and DNS', async () => {
    const pooled = `cidata-pool-${run}`;
    h.write('pool.yaml', 'apiVersion: wimaxvm.io/v1alpha1\nkind: IPPool\nmetadata: { name: seeds }\nspec: { cidr: 10.79.0.0/28, gateway: 10.79.0.1, dns: [10.79.0.2] }\n');
    h.write('pooled.yaml', vmYaml({ name: pooled, extra: '  network: { ipPool: seeds }\n  cloudInit: { hostname: pooled }' }));
    const status = await h.waitForStatus(pooled, 'Running');
    const ip = status.allocations.ip!;
    expect(ip).toMatch(/^10\.79\.0\.\d+$/);
    const config = execFileSync('isoinfo', ['-i', join(h.stateDir, 'overlays', pooled, 'cidata.iso'), '-J', '-x', '/network-config']).toString();
    expect(config).toContain(`- ${ip}/28`);
    expect(config).toMatch(/via: 10\.79\.0\.1|gateway4: 10\.79\.0\.1/);
    expect(config).toContain('10.79.0.2');
  });

  it('deleting the file removes the domain and, with its overlays, the seed', async () => {
    expect(existsSync(iso())).toBe(true);
    h.remove('vm.yaml');
    await eventually(async () => (await h.domain(VM)) === undefined, `${VM} undefined`);
    await eventually(() => !existsSync(overlayFolder()), 'the overlay folder removed');
  });
});
