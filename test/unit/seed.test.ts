// The NoCloud seed's files (src/seed/), checked against cloud-init's documented formats: meta-data
// with instance-id and local-hostname, user-data as #cloud-config (or a MIME multipart beside the
// user's script), network-config version 2 with the NIC matched by its MAC.
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { VirtualMachine } from '../../src/api/virtual-machine.js';
import { networkConfigV2 } from '../../src/seed/network-config.js';
import { noCloudSeed, type SeedRequest } from '../../src/seed/nocloud-seed.js';
import { SeedSpecError, seedRequestFor } from '../../src/seed/seed-request.js';
import { userData, UserDataError } from '../../src/seed/user-data.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q alice@lab';
const KEY2 = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC bob@lab';
const MAC = '52:52:52:52:52:52';
const REQ: SeedRequest = { domainName: 'vm30', hostname: 'vm30', mac: MAC, sshAuthorizedKeys: [KEY] };
const ADDRESS = { address: '192.168.0.30', prefixLength: 24, gateway: '192.168.0.1', dns: ['192.168.0.1', '9.9.9.9'] };

/** A #cloud-config body as cloud-init reads it (YAML after the header line). */
function cloudConfig(text: string): Record<string, unknown> {
  expect(text.split('\n')[0]).toBe('#cloud-config');
  return load(text) as Record<string, unknown>;
}

describe('network-config (cloud-init network config version 2)', () => {
  it.each([
    ['address, gateway and DNS', ADDRESS, {
      match: { macaddress: MAC }, addresses: ['192.168.0.30/24'],
      routes: [{ to: '0.0.0.0/0', via: '192.168.0.1' }], nameservers: { addresses: ['192.168.0.1', '9.9.9.9'] },
    }],
    ['address only', { address: '10.0.0.5', prefixLength: 16 }, { match: { macaddress: MAC }, addresses: ['10.0.0.5/16'] }],
    ['empty DNS list', { address: '10.0.0.5', prefixLength: 32, dns: [] }, { match: { macaddress: MAC }, addresses: ['10.0.0.5/32'] }],
  ])('%s', (_, address, nic) => {
    const text = networkConfigV2(MAC, address);
    expect(parse(text)).toEqual({ version: 2, ethernets: { nic0: nic } });
  });

  it('quotes a MAC of digits, which YAML 1.1 (cloud-init\'s PyYAML) would read as a base-60 number', () => {
    const text = networkConfigV2(MAC, ADDRESS);
    expect(text).toContain(`macaddress: "${MAC}"`);
    expect(parse(text, { version: '1.1' }).ethernets.nic0.match.macaddress).toBe(MAC);
    // The same MAC unquoted is a number in YAML 1.1: the quoting is what keeps it a MAC.
    expect(parse(`m: ${MAC}`, { version: '1.1' }).m).toBeTypeOf('number');
  });

  it('matches the MAC in lower case, as the kernel shows it', () => {
    expect(parse(networkConfigV2('52:54:00:AB:CD:EF', ADDRESS)).ethernets.nic0.match.macaddress).toBe('52:54:00:ab:cd:ef');
  });
});

describe('user-data', () => {
  it.each([
    ['no keys', { hostname: 'vm30', sshAuthorizedKeys: [] }, { hostname: 'vm30' }],
    ['keys', { hostname: 'vm30', sshAuthorizedKeys: [KEY, KEY2] }, { hostname: 'vm30', ssh_authorized_keys: [KEY, KEY2] }],
    ['blank userData counts as none', { hostname: 'vm30', sshAuthorizedKeys: [KEY], userData: '  \n' }, { hostname: 'vm30', ssh_authorized_keys: [KEY] }],
    ['a #cloud-config is merged', { hostname: 'vm30', sshAuthorizedKeys: [KEY], userData: '#cloud-config\npackages: [iperf3]\n' },
      { hostname: 'vm30', packages: ['iperf3'], ssh_authorized_keys: [KEY] }],
    ['its own keys come first, the spec\'s are added once', { hostname: 'vm30', sshAuthorizedKeys: [KEY, KEY2], userData: `#cloud-config\nssh_authorized_keys:\n  - ${KEY2}\n` },
      { hostname: 'vm30', ssh_authorized_keys: [KEY2, KEY] }],
    ['the same hostname in both is fine', { hostname: 'vm30', sshAuthorizedKeys: [], userData: '#cloud-config\nhostname: vm30\n' }, { hostname: 'vm30' }],
    ['an empty #cloud-config', { hostname: 'vm30', sshAuthorizedKeys: [], userData: '#cloud-config\n' }, { hostname: 'vm30' }],
  ])('%s', (_, input, expected) => {
    expect(cloudConfig(userData(input))).toEqual(expected);
  });

  it('keeps the comments of the user\'s #cloud-config', () => {
    const text = userData({ hostname: 'vm30', sshAuthorizedKeys: [KEY], userData: '#cloud-config\n# lab defaults\npackages: [iperf3] # for the slice tests\n' });
    expect(text).toContain('# lab defaults');
    expect(text).toContain('# for the slice tests');
  });

  it.each([
    ['a hostname that differs', '#cloud-config\nhostname: other\n', /sets hostname "other".*"vm30"/],
    ['a list that is not one', '#cloud-config\nssh_authorized_keys: nope\n', /must be a list/],
    ['not a mapping', '#cloud-config\n- a\n- b\n', /must be a YAML mapping/],
    ['broken YAML', '#cloud-config\nkey: [unclosed\n', /not valid YAML/],
    ['an unknown first line', 'hostname: vm30\n', /must start with #cloud-config/],
  ])('refuses %s with a clear error', (_, own, message) => {
    expect(() => userData({ hostname: 'vm30', sshAuthorizedKeys: [KEY], userData: own })).toThrow(UserDataError);
    expect(() => userData({ hostname: 'vm30', sshAuthorizedKeys: [KEY], userData: own })).toThrow(message);
  });

  it.each([
    ['#!/bin/sh\necho hi > /tmp/hi\n', 'text/x-shellscript'],
    ['#cloud-boothook\n#!/bin/sh\necho early\n', 'text/cloud-boothook'],
    ['#include\nhttp://example.invalid/config\n', 'text/x-include-url'],
  ])('puts a script (%j) beside its own #cloud-config in a MIME multipart message', (own, type) => {
    const text = userData({ hostname: 'vm30', sshAuthorizedKeys: [KEY], userData: own });
    const boundary = /^Content-Type: multipart\/mixed; boundary="([^"]+)"$/m.exec(text)![1]!;
    const parts = text.split(`--${boundary}`);
    expect(parts.at(-1)).toBe('--\n'); // the closing delimiter
    const [ours, theirs] = parts.slice(1, -1).map((p) => p.split('\n\n'));
    expect(ours![0]).toContain('Content-Type: text/cloud-config');
    expect(cloudConfig(ours!.slice(1).join('\n\n'))).toEqual({ hostname: 'vm30', ssh_authorized_keys: [KEY] });
    expect(theirs![0]).toContain(`Content-Type: ${type}`);
    expect(`${theirs!.slice(1).join('\n\n')}`).toBe(own);
  });
});

describe('the seed: meta-data and its instance-id', () => {
  it('meta-data holds instance-id and local-hostname; network-config only with an address', () => {
    const without = noCloudSeed(REQ);
    expect(Object.keys(without.files).sort()).toEqual(['meta-data', 'user-data']);
    const meta = load(without.files['meta-data']) as Record<string, string>;
    expect(meta['local-hostname']).toBe('vm30');
    expect(meta['instance-id']).toMatch(/^iid-vm30-[0-9a-f]{12}$/);
    const withAddress = noCloudSeed({ ...REQ, address: ADDRESS });
    expect(Object.keys(withAddress.files).sort()).toEqual(['meta-data', 'network-config', 'user-data']);
  });

  it('the same request gives the same seed, byte for byte', () => {
    expect(noCloudSeed({ ...REQ, address: ADDRESS })).toEqual(noCloudSeed({ ...REQ, address: ADDRESS }));
  });

  it.each([
    ['hostname', { hostname: 'other' }],
    ['a key', { sshAuthorizedKeys: [KEY, KEY2] }],
    ['userData', { userData: '#cloud-config\npackages: [vim]\n' }],
    ['the address', { address: { ...ADDRESS, address: '192.168.0.31' } }],
    ['the gateway', { address: { ...ADDRESS, gateway: '192.168.0.254' } }],
    ['the MAC (with an address)', { mac: '52:54:00:00:00:01', address: ADDRESS }],
  ])('a new %s gives a new instance-id and digest', (_, change) => {
    const before = noCloudSeed({ ...REQ, address: ADDRESS });
    const after = noCloudSeed({ ...REQ, address: ADDRESS, ...change });
    const iid = (s: typeof before) => (load(s.files['meta-data']) as Record<string, string>)['instance-id'];
    expect(iid(after)).not.toBe(iid(before));
    expect(after.digest).not.toBe(before.digest);
  });
});

describe('which VMs get a seed', () => {
  const vm = (spec: Partial<VirtualMachine['spec']>, name = 'vm30'): VirtualMachine => ({
    apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
    metadata: { name, namespace: 'default', uid: 'u1', generation: 1 },
    spec: { runStrategy: 'Always', memory: '64Mi', vcpus: 1, ...spec },
  } as VirtualMachine);

  it.each([
    ['neither cloudInit nor an address: none', {}, undefined, undefined],
    ['an address only: the VM name as hostname', {}, ADDRESS, { hostname: 'vm30', sshAuthorizedKeys: [], address: ADDRESS }],
    ['cloudInit only', { cloudInit: { hostname: 'box1', sshAuthorizedKeys: [KEY] } }, undefined, { hostname: 'box1', sshAuthorizedKeys: [KEY] }],
    ['an empty cloudInit: the VM name as hostname', { cloudInit: {} }, undefined, { hostname: 'vm30', sshAuthorizedKeys: [] }],
    ['both', { cloudInit: { userData: '#!/bin/sh\n' } }, ADDRESS, { hostname: 'vm30', sshAuthorizedKeys: [], userData: '#!/bin/sh\n', address: ADDRESS }],
  ])('%s', (_, spec, address, expected) => {
    const req = seedRequestFor(vm(spec), 'vm30', MAC, address);
    expect(req).toEqual(expected && { domainName: 'vm30', mac: MAC, ...expected });
  });

  it.each([
    ['a VM name longer than a host name', vm({ cloudInit: {} }, 'a'.repeat(65)), /the VM's name.*set spec.cloudInit.hostname/],
    ['an upper-case hostname', vm({ cloudInit: { hostname: 'Box1' } }), /spec.cloudInit.hostname "Box1" is not a host name/],
    ['a label ending in a dash', vm({ cloudInit: { hostname: 'box-.lab' } }), /is not a host name/],
  ])('refuses %s', (_, v, message) => {
    expect(() => seedRequestFor(v, 'vm30', MAC, undefined)).toThrow(SeedSpecError);
    expect(() => seedRequestFor(v, 'vm30', MAC, undefined)).toThrow(message);
  });
});
