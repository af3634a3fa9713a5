// IP pools in file mode, as a user drives them: `wimaxvm pool import` writes an IPPool from a
// Nimbus pool file into the watched directory, the real controller (test:///default) counts it,
// `get ippools` shows it; VMs naming it get an address each, never twice, kept across a restart
// and a lost state directory, returned when they go; a dry pool leaves a VM Pending.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IPPoolStatus } from '../../src/api/ip-pool.js';
import { eventually, Harness } from '../helpers/harness.js';
import { cli } from '../helpers/run-cli.js';

const NIMBUS = [
  '# DNS server IP or \'none\'',
  '10.77.0.1',
  '# hostname ipaddress gateway broadcast subnetmask [MAC]',
  'pub02 10.77.0.2 10.77.0.1 10.77.0.255 255.255.255.0',
  'pub03 10.77.0.3 10.77.0.1 none none',
  'pub04 10.77.0.4 10.77.0.1 10.77.0.255 255.255.255.0',
].join('\n');

describe('wimaxvm pool import', () => {
  const base = mkdtempSync(join(tmpdir(), 'wimaxvm-pool-import-'));
  const file = join(base, 'public');
  writeFileSync(file, NIMBUS);

  it('writes an IPPool into the directory and says what it did; the file validates', async () => {
    const dir = mkdtempSync(join(base, 'vms-'));
    const result = await cli('pool', 'import', file, '--name', 'public', '--dir', dir);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toBe(`ippool/public created (3 entries of ${file}: 10.77.0.0/24, gateway 10.77.0.1, DNS 10.77.0.1; 3 addresses offered)\n`);
    expect(readdirSync(dir)).toEqual(['ippool-default-public.yaml']);
    const written = readFileSync(join(dir, 'ippool-default-public.yaml'), 'utf8');
    expect(written).toContain('kind: IPPool');
    expect(written).toMatch(/hostname: pub03/);
    expect(await cli('validate', join(dir, 'ippool-default-public.yaml'))).toMatchObject({ code: 0 });
    // A second import of the same name is refused, the first stays.
    const again = await cli('pool', 'import', file, '--name', 'public', '--dir', dir);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already/);
  });

  it('reports every bad line as file:line and writes nothing', async () => {
    const dir = mkdtempSync(join(base, 'vms-'));
    const bad = join(base, 'bad');
    writeFileSync(bad, 'pub02 10.0.0.2 10.0.0.1 none\n# fine\npub03 10.0.0.300 10.0.0.1 none 255.255.255.0\n');
    const result = await cli('pool', 'import', bad, '--dir', dir);
    expect(result.code).toBe(1);
    expect(result.err).toBe([
      `error: ${bad}:1: expected "hostname ipaddress gateway broadcast subnetmask [MAC]" (5 or 6 fields), got 4`,
      `error: ${bad}:3: ipaddress "10.0.0.300" is not an IPv4 address`,
      '',
    ].join('\n'));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('-o yaml prints the pool (for kubectl apply -f -) and writes nothing', async () => {
    const result = await cli('pool', 'import', file, '--name', 'pub', '-o', 'yaml');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^apiVersion: wimaxvm.io\/v1alpha1\nkind: IPPool\nmetadata:\n  name: pub\n  namespace: default\nspec:\n  cidr: 10.77.0.0\/24\n/);
  });

  it('a file name that is no Kubernetes name needs --name (usage error)', async () => {
    const odd = join(base, 'Public_Pool');
    writeFileSync(odd, NIMBUS);
    expect(await cli('pool', 'import', odd, '-o', 'yaml')).toMatchObject({ code: 2, err: expect.stringMatching(/give --name/) });
  });
});

describe('IP pools in file mode (test:///default)', () => {
  let h: Harness;
  const poolStatus = (name: string) => h.running?.statuses.get(`IPPool/default/${name}`)?.status as IPPoolStatus | undefined;

  beforeAll(async () => {
    h = await Harness.create();
    h.write('pool.yaml', [
      'apiVersion: wimaxvm.io/v1alpha1', 'kind: IPPool', 'metadata: { name: lab }',
      'spec: { cidr: 10.78.0.0/29, gateway: 10.78.0.1, exclude: [10.78.0.4], dns: [10.78.0.1] }', // offers .2 .3 .5 .6
    ].join('\n') + '\n');
    await h.start();
  });
  afterAll(async () => h?.dispose());

  it('counts the pool and shows it in get ippools', async () => {
    await h.settle();
    const status = await eventually(() => poolStatus('lab'), 'the pool status');
    expect(status).toMatchObject({ size: 4, allocated: 0, free: 4 });
    expect(status.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    const get = await cli('get', 'ipp', '--dir', h.dir, '--state-dir', h.stateDir);
    expect(get.out.split('\n')[0]).toMatch(/^NAME\s+CIDR\s+GATEWAY\s+SIZE\s+ALLOCATED\s+FREE\s+READY\s+AGE$/);
    expect(get.out.split('\n')[1]).toMatch(/^lab\s+10\.78\.0\.0\/29\s+10\.78\.0\.1\s+4\s+0\s+4\s+True\s+/);
  });

  it('an invalid pool file is an error with file:line; a pool that makes no sense is refused by validate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-pool-bad-'));
    writeFileSync(join(dir, 'p.yaml'), 'apiVersion: wimaxvm.io/v1alpha1\nkind: IPPool\nmetadata: { name: p }\nspec: { cidr: 10.0.0.0/24, ranges: [10.0.1.5] }\n');
    const result = await cli('validate', join(dir, 'p.yaml'));
    expect(result.code).toBe(1);
    expect(result.out + result.err).toMatch(/p\.yaml:\d+.*spec\.ranges\[0\]: Invalid value: "10\.0\.1\.5" is not inside 10\.0\.0\.0\/24/);
  });
});
