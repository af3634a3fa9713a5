import { describe, expect, it } from 'vitest';
import type { IPPool, IPPoolSpec } from '../../src/api/ip-pool.js';
import type { VirtualMachine } from '../../src/api/virtual-machine.js';
import { formatIpv4, parseCidr, parseIpv4, parseRange, prefixLengthOfMask } from '../../src/pools/ipv4.js';
import { compilePool, formatRanges, subtractRanges } from '../../src/pools/pool-addresses.js';
import { parseNimbusPoolFile, PoolFileError, poolSpecFromNimbus } from '../../src/pools/nimbus-pool-file.js';
import { chooseIp, type IpChoiceInput } from '../../src/pools/ip-choice.js';
import { guestAddressFor } from '../../src/pools/guest-address.js';

const pool = (name: string, spec: IPPoolSpec): IPPool => ({
  apiVersion: 'wimaxvm.io/v1alpha1', kind: 'IPPool',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1, creationTimestamp: '' }, spec,
});

describe('IPv4 parsing', () => {
  it.each([
    ['0.0.0.0', 0], ['192.168.0.1', 3232235521], ['255.255.255.255', 2 ** 32 - 1],
  ])('%s is %d and back', (text, n) => {
    expect(parseIpv4(text)).toBe(n);
    expect(formatIpv4(n)).toBe(text);
  });

  it.each(['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', 'a.b.c.d', '', '1.2.3.4/24'])('refuses %j', (text) => {
    expect(() => parseIpv4(text)).toThrow(/not an IPv4 address/);
  });

  it.each([
    ['10.0.0.0/8', 8], ['192.168.0.0/24', 24], ['192.168.0.4/30', 30], ['192.168.0.7/32', 32], ['0.0.0.0/0', 0],
  ])('CIDR %s', (text, prefixLength) => expect(parseCidr(text).prefixLength).toBe(prefixLength));

  it.each([
    ['192.168.0.7/24', /host bits set: the block is 192.168.0.0\/24/],
    ['192.168.0.0/33', /not an IPv4 CIDR/],
    ['192.168.0.0', /not an IPv4 CIDR/],
  ])('refuses CIDR %s', (text, error) => expect(() => parseCidr(text)).toThrow(error));

  it.each([['255.255.255.0', 24], ['255.255.0.0', 16], ['255.255.255.255', 32], ['0.0.0.0', 0], ['255.255.255.252', 30]])('netmask %s is /%d', (mask, length) => {
    expect(prefixLengthOfMask(mask)).toBe(length);
  });

  it('refuses a netmask with a hole', () => expect(() => prefixLengthOfMask('255.0.255.0')).toThrow(/not contiguous/));

  it.each([['10.0.0.5', 1], ['10.0.0.5-10.0.0.9', 5]])('range %s', (text, size) => {
    const r = parseRange(text);
    expect(r.last - r.first + 1).toBe(size);
  });

  it('refuses a range that ends before it starts', () => expect(() => parseRange('10.0.0.9-10.0.0.5')).toThrow(/ends before/));
});

describe('what a pool offers (CIDR, ranges, exclusions)', () => {
  it.each<[string, IPPoolSpec, string[], number]>([
    ['a whole /24 without network, broadcast and gateway', { cidr: '192.168.0.0/24', gateway: '192.168.0.1' }, ['192.168.0.2-192.168.0.254'], 253],
    ['a /24 without a gateway', { cidr: '192.168.0.0/24' }, ['192.168.0.1-192.168.0.254'], 254],
    ['a range with a hole', { cidr: '10.0.0.0/24', ranges: ['10.0.0.10-10.0.0.20'], exclude: ['10.0.0.12', '10.0.0.15-10.0.0.16'] }, ['10.0.0.10-10.0.0.11', '10.0.0.13-10.0.0.14', '10.0.0.17-10.0.0.20'], 8],
    ['ranges that overlap merge', { cidr: '10.0.0.0/24', ranges: ['10.0.0.10-10.0.0.20', '10.0.0.15-10.0.0.30', '10.0.0.31'] }, ['10.0.0.10-10.0.0.31'], 22],
    ['a range over network and broadcast loses them', { cidr: '10.0.0.0/29', ranges: ['10.0.0.0-10.0.0.7'], gateway: '10.0.0.1' }, ['10.0.0.2-10.0.0.6'], 5],
    ['a /30', { cidr: '10.0.0.4/30' }, ['10.0.0.5-10.0.0.6'], 2],
    ['a /32 is one address (no network or broadcast)', { cidr: '10.0.0.9/32' }, ['10.0.0.9'], 1],
    ['Nimbus hosts only', { cidr: '192.168.0.0/24', gateway: '192.168.0.1', hosts: [{ ip: '192.168.0.3' }, { ip: '192.168.0.2' }] }, ['192.168.0.2-192.168.0.3'], 2],
    ['everything excluded', { cidr: '10.0.0.0/30', exclude: ['10.0.0.0-10.0.0.3'] }, [], 0],
  ])('%s', (_name, spec, ranges, size) => {
    const result = compilePool(spec);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(formatRanges(result.pool.ranges)).toEqual(ranges);
    expect(result.pool.size).toBe(size);
  });

  it.each<[string, IPPoolSpec, RegExp]>([
    ['host bits', { cidr: '10.0.0.1/24' }, /spec\.cidr: Invalid value: .*host bits/],
    ['gateway outside', { cidr: '10.0.0.0/24', gateway: '10.0.1.1' }, /spec\.gateway: .*not inside 10\.0\.0\.0\/24/],
    ['range outside', { cidr: '10.0.0.0/24', ranges: ['10.0.0.250-10.0.1.5'] }, /spec\.ranges\[0\]: .*not inside/],
    ['backwards range', { cidr: '10.0.0.0/24', ranges: ['10.0.0.9-10.0.0.1'] }, /spec\.ranges\[0\]: .*ends before/],
    ['host outside', { cidr: '10.0.0.0/24', hosts: [{ ip: '10.0.0.2' }, { ip: '10.9.0.2' }] }, /spec\.hosts\[1\]\.ip: .*not inside/],
    ['host twice', { cidr: '10.0.0.0/24', hosts: [{ ip: '10.0.0.2' }, { ip: '10.0.0.2' }] }, /spec\.hosts\[1\]\.ip: .*listed twice/],
    ['bad octet', { cidr: '10.0.0.0/24', dns: ['10.0.0.300'] }, /spec\.dns\[0\]: .*not an IPv4 address/],
  ])('refuses %s with the field named', (_name, spec, error) => {
    const result = compilePool(spec);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.message).join('\n')).toMatch(error);
  });

  it('subtracts holes at both edges and in the middle', () => {
    const r = (a: number, b: number) => ({ first: a, last: b });
    expect(subtractRanges([r(1, 10)], [r(1, 1), r(10, 12), r(5, 6)])).toEqual([r(2, 4), r(7, 9)]);
  });
});

describe('Nimbus pool files', () => {
  const seed = [
    "# DNS server IP address (or 'none')",
    '192.168.0.1',
    '# hostname ipaddress gateway broadcast subnetmask [MAC]',
    'pub02 192.168.0.2 192.168.0.1 none none',
    'pub03 192.168.0.3 192.168.0.1 192.168.0.255 255.255.255.0',
    '',
    'pub04 192.168.0.4 192.168.0.1 192.168.0.255 255.255.255.0 52:54:00:AA:BB:CC   # reserved',
  ].join('\n');

  it('reads the seed\'s example: DNS line, comments, blank lines, none fields, a MAC', () => {
    const parsed = parseNimbusPoolFile(seed, 'public');
    expect(parsed.dns).toBe('192.168.0.1');
    expect(parsed.entries.map((e) => [e.line, e.hostname, e.ip, e.netmask, e.mac])).toEqual([
      [4, 'pub02', '192.168.0.2', undefined, undefined],
      [5, 'pub03', '192.168.0.3', '255.255.255.0', undefined],
      [7, 'pub04', '192.168.0.4', '255.255.255.0', '52:54:00:aa:bb:cc'],
    ]);
    expect(poolSpecFromNimbus(parsed, 'public')).toEqual({
      cidr: '192.168.0.0/24', gateway: '192.168.0.1', dns: ['192.168.0.1'],
      hosts: [{ ip: '192.168.0.2', hostname: 'pub02' }, { ip: '192.168.0.3', hostname: 'pub03' }, { ip: '192.168.0.4', hostname: 'pub04', mac: '52:54:00:aa:bb:cc' }],
    });
  });

  it.each<[string, string, RegExp]>([
    ['too few fields', 'pub02 192.168.0.2 192.168.0.1', /^f:1: expected "hostname ipaddress gateway broadcast subnetmask \[MAC\]" \(5 or 6 fields\), got 3$/],
    ['a bad address', 'pub02 192.168.0.300 192.168.0.1 none none', /^f:1: ipaddress "192.168.0.300" is not an IPv4 address$/],
    ['a bad netmask', 'pub02 192.168.0.2 192.168.0.1 none 255.0.255.0', /^f:1: subnetmask: not a netmask/],
    ['a bad MAC', 'pub02 192.168.0.2 192.168.0.1 none none 52:54:00:zz:00:00', /^f:1: MAC "52:54:00:zz:00:00" is not a MAC address/],
    ['a bad hostname', 'pub_02 192.168.0.2 192.168.0.1 none none', /^f:1: hostname "pub_02" is not a valid host name/],
    ['a DNS line after entries', 'pub02 192.168.0.2 192.168.0.1 none none\n192.168.0.1', /^f:2: a line with one field is the DNS server and comes once, before the entries/],
    ['an address twice', 'a 10.0.0.2 none none none\nb 10.0.0.2 none none none', /^f:2: 10.0.0.2 is listed already on line 1$/],
    ['no entries', '# nothing\n192.168.0.1\n', /^f: no entries/],
  ])('reports %s with file:line', (_name, text, error) => {
    expect(() => parseNimbusPoolFile(text, 'f')).toThrow(PoolFileError);
    expect(() => parseNimbusPoolFile(text, 'f')).toThrow(error);
  });

  it('reports every bad line, not only the first', () => {
    try {
      parseNimbusPoolFile('x 1.2.3\ny 10.0.0.2 none none none\nz\n', 'f');
      expect.unreachable();
    } catch (err) {
      expect((err as PoolFileError).problems).toEqual([
        'f:1: expected "hostname ipaddress gateway broadcast subnetmask [MAC]" (5 or 6 fields), got 2',
        'f:3: a line with one field is the DNS server and comes once, before the entries; got "z" here',
      ]);
    }
  });

  it.each<[string, string, RegExp]>([
    ['entries in two subnets', 'a 10.0.0.2 none none 255.255.255.0\nb 10.0.1.2 none none none', /^f:2: 10\.0\.1\.2 is not in 10\.0\.0\.0\/24 \(the subnet of line 1\)$/],
    ['two gateways', 'a 10.0.0.2 10.0.0.1 none 255.255.255.0\nb 10.0.0.3 10.0.0.254 none none', /^f:2: gateway 10\.0\.0\.254 differs from 10\.0\.0\.1 on line 1/],
    ['a wrong broadcast', 'a 10.0.0.2 none 10.0.0.254 255.255.255.0', /^f:1: broadcast 10\.0\.0\.254 is not 10\.0\.0\.255/],
    ['no netmask anywhere', 'a 10.0.0.2 none none none', /no entry gives a subnetmask/],
  ])('refuses to make one pool of %s', (_name, text, error) => {
    expect(() => poolSpecFromNimbus(parseNimbusPoolFile(text, 'f'), 'f')).toThrow(error);
  });
});

describe('allocation and exhaustion', () => {
  const small = pool('small', { cidr: '10.0.0.0/29', gateway: '10.0.0.1', exclude: ['10.0.0.4'] }); // offers .2 .3 .5 .6
  /** Runs allocations in order against one registry, as the claims registry would hold them. */
  function run(steps: { vm: string; previous?: string; mac?: string; spec?: IpChoiceInput['spec'] }[], pools = [small], held = new Map<string, string>()) {
    return steps.map(({ vm, previous, mac, spec }) => {
      const choice = chooseIp({
        holder: vm, mac: mac ?? '52:54:00:00:00:01', spec: spec ?? { ipPool: 'small' }, pools,
        ...(previous ? { previous } : {}),
        holderOf: (ip) => held.get(ip),
      });
      if (choice.kind === 'claim') held.set(choice.ip, vm);
      return choice.kind === 'claim' ? choice.ip : choice.kind === 'problem' ? choice.reason : 'none';
    });
  }

  it('hands each address once, skipping network, gateway, exclusions and broadcast, then says exhausted', () => {
    expect(run([{ vm: 'a' }, { vm: 'b' }, { vm: 'c' }, { vm: 'd' }, { vm: 'e' }])).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.5', '10.0.0.6', 'IPPoolExhausted']);
  });

  it('gives a VM the same address again (stable across reconciles and restarts)', () => {
    const held = new Map<string, string>();
    expect(run([{ vm: 'a' }, { vm: 'b' }], [small], held)).toEqual(['10.0.0.2', '10.0.0.3']);
    // A restart: the registry rebuilt from status/metadata, in another order.
    const rebuilt = new Map([['10.0.0.3', 'b'], ['10.0.0.2', 'a']]);
    expect(run([{ vm: 'b', previous: '10.0.0.3' }, { vm: 'a', previous: '10.0.0.2' }], [small], rebuilt)).toEqual(['10.0.0.3', '10.0.0.2']);
  });

  it('a freed address is handed out again', () => {
    const held = new Map<string, string>();
    run([{ vm: 'a' }, { vm: 'b' }, { vm: 'c' }, { vm: 'd' }], [small], held);
    held.delete('10.0.0.3');
    expect(run([{ vm: 'e' }], [small], held)).toEqual(['10.0.0.3']);
  });

  it('a pool shrunk under a VM keeps its address (inside the subnet), a new VM gets only what is offered', () => {
    const held = new Map([['10.0.0.6', 'a']]);
    const shrunk = pool('small', { cidr: '10.0.0.0/29', ranges: ['10.0.0.2-10.0.0.3'] });
    expect(run([{ vm: 'a', previous: '10.0.0.6' }, { vm: 'b' }, { vm: 'c' }, { vm: 'd' }], [shrunk], held)).toEqual(['10.0.0.6', '10.0.0.2', '10.0.0.3', 'IPPoolExhausted']);
  });

  it('a VM whose pool changed to another subnet gets a new address', () => {
    const other = pool('other', { cidr: '10.1.0.0/24' });
    expect(run([{ vm: 'a', previous: '10.0.0.2', spec: { ipPool: 'other' } }], [small, other])).toEqual(['10.1.0.1']);
  });

  it('never takes a previous address another VM holds now', () => {
    const held = new Map([['10.0.0.2', 'b']]);
    expect(run([{ vm: 'a', previous: '10.0.0.2' }], [small], held)).toEqual(['10.0.0.3']);
  });

  it('a host entry that names a MAC goes to that VM only, first', () => {
    const nimbus = pool('small', { cidr: '10.0.0.0/24', hosts: [{ ip: '10.0.0.2', mac: '52:54:00:00:00:0b' }, { ip: '10.0.0.3', hostname: 'pub03' }] });
    expect(run([{ vm: 'a', mac: '52:54:00:00:00:0a' }, { vm: 'c', mac: '52:54:00:00:00:0c' }, { vm: 'b', mac: '52:54:00:00:00:0B' }], [nimbus]))
      .toEqual(['10.0.0.3', 'IPPoolExhausted', '10.0.0.2']);
    expect(chooseIp({ holder: 'x', mac: '52:54:00:00:00:0a', spec: { ipPool: 'small' }, pools: [nimbus], holderOf: () => undefined }))
      .toEqual({ kind: 'claim', ip: '10.0.0.3', pool: 'small', hostname: 'pub03' });
  });

  it.each<[string, IpChoiceInput['spec'], Map<string, string>, string]>([
    ['a fixed address in a pool is claimed in it', { ip: '10.0.0.5' }, new Map(), '10.0.0.5'],
    ['a fixed address in the named pool', { ip: '10.0.0.5', ipPool: 'small' }, new Map(), '10.0.0.5'],
    ['a fixed address outside every pool is nobody\'s business', { ip: '172.16.0.5' }, new Map(), 'none'],
    ['a fixed address another VM holds is a conflict', { ip: '10.0.0.5' }, new Map([['10.0.0.5', 'b']]), 'IPConflict'],
    ['a fixed address outside the named pool', { ip: '172.16.0.5', ipPool: 'small' }, new Map(), 'IPNotInPool'],
    ['an unknown pool', { ipPool: 'nope' }, new Map(), 'IPPoolNotFound'],
    ['no pool and no address', {}, new Map(), 'none'],
  ])('%s', (_name, spec, held, expected) => {
    expect(run([{ vm: 'a', spec }], [small], held)).toEqual([expected]);
  });

  it('an invalid pool gives nothing (and says so)', () => {
    expect(run([{ vm: 'a' }], [pool('small', { cidr: '10.0.0.1/24' })])).toEqual(['IPPoolInvalid']);
  });

  it('a dry pool is pending, a conflict too (an address may free up), a bad spec is not', () => {
    const dry = chooseIp({ holder: 'x', mac: '52:54:00:00:00:01', spec: { ipPool: 'small' }, pools: [pool('small', { cidr: '10.0.0.0/30', exclude: ['10.0.0.1-10.0.0.2'] })], holderOf: () => undefined });
    expect(dry).toMatchObject({ kind: 'problem', reason: 'IPPoolExhausted', pending: true, message: 'IPPool small has no free address (0 in all)' });
    const outside = chooseIp({ holder: 'x', mac: '52:54:00:00:00:01', spec: { ipPool: 'small', ip: '1.2.3.4' }, pools: [small], holderOf: () => undefined });
    expect(outside).toMatchObject({ kind: 'problem', pending: false });
  });
});

describe('the guest\'s address for the seed', () => {
  const vm = (network: NonNullable<VirtualMachine['spec']['network']>, ip?: string): VirtualMachine => ({
    apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
    metadata: { name: 'vm1', namespace: 'default', uid: 'u', generation: 1, creationTimestamp: '' },
    spec: { runStrategy: 'Always', memory: '64Mi', vcpus: 1, network },
    ...(ip ? { status: { printableStatus: 'Running', observedGeneration: 1, conditions: [], allocations: { ip } } } : {}),
  });
  const pools = [pool('a', { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.53', '9.9.9.9'] }), pool('b', { cidr: '10.9.0.0/16' })];

  it.each<[string, VirtualMachine, object | undefined]>([
    ['the allocated address with its pool\'s prefix, gateway and DNS', vm({ ipPool: 'a' }, '10.0.0.7'), { address: '10.0.0.7', prefixLength: 24, gateway: '10.0.0.1', dns: ['10.0.0.53', '9.9.9.9'] }],
    ['a fixed address in a pool not named', vm({ ip: '10.9.3.4' }), { address: '10.9.3.4', prefixLength: 16 }],
    ['no address yet', vm({ ipPool: 'a' }), undefined],
    ['an address no pool holds', vm({ ip: '172.16.0.1' }), undefined],
  ])('%s', (_name, machine, expected) => expect(guestAddressFor(machine, pools)).toEqual(expected));
});
