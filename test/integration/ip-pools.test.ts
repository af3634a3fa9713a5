// IP pools in file mode, as a user drives them: `wimaxvm pool import` writes an IPPool from a
// Nimbus pool file into the watched directory, the real controller (test:///default) counts it,
// `get ippools` shows it; VMs naming it get an address each, never twice, kept across a restart
// and a lost state directory, returned when they go; a dry pool leaves a VM Pending.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IPPoolStatus } from '../../src/api/ip-pool.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';
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
  const run = Math.random().toString(36).slice(2, 6);
  const name = (n: number) => `ipp-${run}-${n}`;
  const poolStatus = (pool = 'lab') => h.running?.statuses.get(`IPPool/default/${pool}`)?.status as IPPoolStatus | undefined;
  const poolYaml = (spec: string) => ['apiVersion: wimaxvm.io/v1alpha1', 'kind: IPPool', 'metadata: { name: lab }', `spec: ${spec}`].join('\n') + '\n';
  const LAB = '{ cidr: 10.78.0.0/29, gateway: 10.78.0.1, exclude: [10.78.0.4], dns: [10.78.0.1] }'; // offers .2 .3 .5 .6
  const vmWith = (n: number, network: string) => vmYaml({ name: name(n), runStrategy: 'Halted', extra: `  network: ${network}` });
  const ipOf = (n: number) => h.status(name(n))?.allocations.ip;
  const condition = (n: number, type: string) => h.status(name(n))?.conditions.find((c) => c.type === type);

  beforeAll(async () => {
    h = await Harness.create();
    h.write('pool.yaml', poolYaml(LAB));
    for (const n of [1, 2, 3, 4]) h.write(`vm-${n}.yaml`, vmWith(n, '{ ipPool: lab }'));
    await h.start();
  });
  afterAll(async () => h?.dispose());

  it('gives each VM naming the pool its own address, in status and in the domain, and counts the pool', async () => {
    await h.settle();
    const ips = [1, 2, 3, 4].map(ipOf);
    expect(ips).toEqual(expect.arrayContaining(['10.78.0.2', '10.78.0.3', '10.78.0.5', '10.78.0.6']));
    for (const n of [1, 2, 3, 4]) {
      expect(condition(n, 'IPAssigned')).toMatchObject({ status: 'True', reason: 'Allocated', message: `${ipOf(n)} from IPPool lab` });
      expect((await h.domain(name(n)))!.parsed.owner?.ip).toBe(ipOf(n));
    }
    const status = await eventually(() => poolStatus()?.allocated === 4 && poolStatus(), 'the pool counted');
    expect(status).toMatchObject({ size: 4, allocated: 4, free: 0 });
    expect(status.conditions.find((c) => c.type === 'Exhausted')).toMatchObject({ status: 'True', reason: 'NoFreeAddress' });
    const get = await cli('get', 'ippools', '--dir', h.dir, '--state-dir', h.stateDir);
    expect(get.out.split('\n')[0]).toMatch(/^NAME\s+CIDR\s+GATEWAY\s+SIZE\s+ALLOCATED\s+FREE\s+READY\s+AGE$/);
    expect(get.out.split('\n')[1]).toMatch(/^lab\s+10\.78\.0\.0\/29\s+10\.78\.0\.1\s+4\s+4\s+0\s+True\s+/);
  });

  it('a dry pool leaves a VM Pending with the reason; an address returned goes to it', async () => {
    h.write('vm-5.yaml', vmWith(5, '{ ipPool: lab }'));
    await h.settle();
    await h.waitForStatus(name(5), 'Pending');
    expect(condition(5, 'IPAssigned')).toMatchObject({ status: 'False', reason: 'IPPoolExhausted', message: 'IPPool lab has no free address (4 in all)' });
    expect(await h.domain(name(5))).toBeUndefined(); // not defined without its address
    const freed = ipOf(2)!;
    h.remove('vm-2.yaml');
    // Queued again when the address came back (not after the 30 s wait).
    await eventually(() => ipOf(5) === freed, `${name(5)} to get ${freed}`, 10_000);
    await h.waitForStatus(name(5), 'Stopped');
    await eventually(() => poolStatus()?.allocated === 4, 'the pool counted again');
  });

  it('a fixed spec.network.ip another VM holds is IPConflict (Pending), never a double', async () => {
    const held = ipOf(1)!;
    h.write('vm-6.yaml', vmWith(6, `{ ip: "${held}" }`));
    await h.settle();
    await h.waitForStatus(name(6), 'Pending');
    expect(condition(6, 'IPAssigned')).toMatchObject({ status: 'False', reason: 'IPConflict', message: `spec.network.ip ${held} is held by VirtualMachine/default/${name(1)}` });
    expect(ipOf(1)).toBe(held);
    h.remove('vm-6.yaml');
    await h.settle();
  });

  it('a restart with the state directory lost hands no address twice: each VM keeps its own (domain metadata)', async () => {
    const before = Object.fromEntries([1, 3, 4, 5].map((n) => [n, ipOf(n)]));
    await h.stop();
    h.wipeState();
    h.write('vm-7.yaml', vmWith(7, '{ ipPool: lab }')); // a new VM asks while the others are known only from their domains
    await h.start();
    await h.settle();
    expect(Object.fromEntries([1, 3, 4, 5].map((n) => [n, ipOf(n)]))).toEqual(before);
    await h.waitForStatus(name(7), 'Pending');
    expect(condition(7, 'IPAssigned')).toMatchObject({ reason: 'IPPoolExhausted' });
    h.remove('vm-7.yaml');
    await h.settle();
  });

  it('a pool shrunk under live allocations keeps them and says so', async () => {
    h.write('pool.yaml', poolYaml('{ cidr: 10.78.0.0/29, gateway: 10.78.0.1, ranges: [10.78.0.2-10.78.0.3] }'));
    await h.settle();
    const outside = [1, 3, 4, 5].map(ipOf).filter((ip) => ip !== '10.78.0.2' && ip !== '10.78.0.3');
    const status = await eventually(() => poolStatus()?.size === 2 && poolStatus(), 'the shrunk pool counted');
    expect(status).toMatchObject({ size: 2, allocated: 4, free: 0 });
    expect(status.conditions.find((c) => c.type === 'OutsidePool')).toMatchObject({ status: 'True', reason: 'PoolShrunk', message: expect.stringContaining(`${outside.length} VM(s) keep addresses this pool no longer offers`) });
    expect([1, 3, 4, 5].map(ipOf).every(Boolean)).toBe(true);
  });

  it('deleting the pool takes no address from anyone; its status goes; a new VM naming it waits', async () => {
    const held = [1, 3, 4, 5].map(ipOf);
    h.remove('pool.yaml');
    await h.settle();
    await eventually(() => poolStatus() === undefined, 'the pool status removed');
    h.running!.resync();
    await h.settle();
    expect([1, 3, 4, 5].map(ipOf)).toEqual(held);
    expect(condition(1, 'IPAssigned')).toMatchObject({ status: 'False', reason: 'IPPoolNotFound' });
    expect(h.status(name(1))?.printableStatus).toBe('Stopped');
    h.write('vm-8.yaml', vmWith(8, '{ ipPool: lab }'));
    await h.settle();
    await h.waitForStatus(name(8), 'Pending');
  });

  it('an invalid pool is refused by validate with the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wimaxvm-pool-bad-'));
    writeFileSync(join(dir, 'p.yaml'), 'apiVersion: wimaxvm.io/v1alpha1\nkind: IPPool\nmetadata: { name: p }\nspec: { cidr: 10.0.0.0/24, ranges: [10.0.1.5] }\n');
    const result = await cli('validate', join(dir, 'p.yaml'));
    expect(result.code).toBe(1);
    expect(result.out + result.err).toMatch(/spec\.ranges\[0\]: Invalid value: "10\.0\.1\.5" is not inside 10\.0\.0\.0\/24/);
  });
});
