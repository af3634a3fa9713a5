import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checkCrdSchemas, crdDocuments, goFloat, knownKinds, validateResource, type FieldError } from '../../src/api/schema.js';
import { CRDS_DIR } from '../../src/package-root.js';
import { MEMORY_PATTERN, parseMemory } from '../../src/api/quantity.js';

const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const IMAGE_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$';
const MAC_PATTERN = '^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$';
const IP_PATTERN = '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$';
const MEMORY_MSG = `in body should match '${MEMORY_PATTERN}'`;
const KNOWS = '(wimaxvm knows wimaxvm.io/v1alpha1 Hypervisor, wimaxvm.io/v1alpha1 IPPool, wimaxvm.io/v1alpha1 ShapingPolicy, wimaxvm.io/v1alpha1 VirtualMachine, wimaxvm.io/v1alpha1 WimaxClient)';

function vm(spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = { name: 'vm30' }): Record<string, unknown> {
  return { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata, spec };
}

function errorsOf(input: unknown): FieldError[] {
  const result = validateResource(input);
  if (result.ok) throw new Error(`expected validation to fail, got ${JSON.stringify(result.resource)}`);
  return result.errors;
}

describe('validateResource: defaults', () => {
  it('applies the schema defaults and the default namespace', () => {
    const result = validateResource(vm());
    expect(result).toEqual({
      ok: true,
      resource: {
        apiVersion: 'wimaxvm.io/v1alpha1',
        kind: 'VirtualMachine',
        metadata: { name: 'vm30', namespace: 'default' },
        spec: { runStrategy: 'Always', memory: '256Mi', vcpus: 1 },
      },
    });
  });

  it.each([
    ['runStrategy', 'Halted'],
    ['memory', '1Gi'],
    ['memory', 1048576],
    ['vcpus', 4],
  ])('keeps an explicit %s (%j)', (field, value) => {
    const result = validateResource(vm({ [field]: value }));
    expect(result.ok && result.resource.spec[field]).toEqual(value);
  });

  it('keeps an explicit namespace, labels and annotations', () => {
    const result = validateResource(vm({}, { name: 'a', namespace: 'lab', labels: { x: 'y' }, annotations: { n: 'note' } }));
    expect(result.ok && result.resource.metadata).toEqual({ name: 'a', namespace: 'lab', labels: { x: 'y' }, annotations: { n: 'note' } });
  });

  it('drops status, which belongs to the controller', () => {
    const result = validateResource({ ...vm(), status: { printableStatus: 'Running' } });
    expect(result.ok).toBe(true);
    expect(result.ok && 'status' in result.resource).toBe(false);
  });
});

describe('validateResource: accepted values', () => {
  it.each([
    ['unicast MAC', { network: { mac: '52:54:00:aa:bb:cc' } }],
    ['upper-case unicast MAC', { network: { mac: '52:54:00:AA:BB:CC' } }],
    ['IP', { network: { ip: '192.168.0.30' } }],
    ['IP 255.255.255.255', { network: { ip: '255.255.255.255' } }],
    ['flat image', { disks: [{ image: 'debian-12.qcow2' }] }],
    ['image in a sub-folder', { disks: [{ image: 'sub/dir/img.qcow2' }] }],
    ['image with dots inside', { disks: [{ image: 'a..b/c.d.qcow2' }] }],
    ['decimal memory', { memory: '1.5Gi' }],
    ['smallest integer memory', { memory: 1048576 }],
    ['vcpus 256', { vcpus: 256 }],
  ])('%s', (_label, spec) => {
    expect(validateResource(vm(spec)).ok).toBe(true);
  });
});

describe('validateResource: errors', () => {
  it.each<[string, unknown, FieldError[]]>([
    ['unknown spec field', vm({ cpus: 2 }), [{ path: ['spec', 'cpus'], message: 'unknown field "spec.cpus"' }]],
    ['unknown nested spec field', vm({ network: { vlanId: 3 } }), [{ path: ['spec', 'network', 'vlanId'], message: 'unknown field "spec.network.vlanId"' }]],
    ['unknown disk field', vm({ disks: [{ image: 'a.qcow2', size: 1 }] }), [{ path: ['spec', 'disks', 0, 'size'], message: 'unknown field "spec.disks[0].size"' }]],
    ['unknown metadata field', vm({}, { name: 'a', uid: 'x' }), [{ path: ['metadata', 'uid'], message: 'unknown field "metadata.uid"' }]],
    ['unknown top-level field', { ...vm(), extra: 1 }, [{ path: ['extra'], message: 'unknown field "extra"' }]],
    ['bad enum', vm({ runStrategy: 'Sometimes' }), [{
      path: ['spec', 'runStrategy'],
      message: 'spec.runStrategy: Unsupported value: "Sometimes": supported values: "Always", "RerunOnFailure", "Manual", "Halted", "Once"',
    }]],
    ['multicast MAC', vm({ network: { mac: '01:00:5e:00:00:01' } }), [{
      path: ['spec', 'network', 'mac'],
      message: `spec.network.mac: Invalid value: "01:00:5e:00:00:01": spec.network.mac in body should match '${MAC_PATTERN}'`,
    }]],
    ['short MAC', vm({ network: { mac: '52:54:00:aa:bb' } }), [{
      path: ['spec', 'network', 'mac'],
      message: `spec.network.mac: Invalid value: "52:54:00:aa:bb": spec.network.mac in body should match '${MAC_PATTERN}'`,
    }]],
    ['negative memory', vm({ memory: '-5' }), [{ path: ['spec', 'memory'], message: `spec.memory: Invalid value: "-5": spec.memory ${MEMORY_MSG}` }]],
    // The messages of a real v1.28 kube-apiserver for the same documents (issue 8 closing note).
    ['integer memory below minimum', vm({ memory: 12 }), [{ path: ['spec', 'memory'], message: 'spec.memory: Invalid value: 12: spec.memory in body should be greater than or equal to 1048576' }]],
    ['integer memory above 1Ti', vm({ memory: 2 ** 40 + 1 }), [{ path: ['spec', 'memory'], message: `spec.memory: Invalid value: ${2 ** 40 + 1}: spec.memory in body should be less than or equal to 1099511627776` }]],
    ['boolean memory', vm({ memory: true }), [
      { path: ['spec', 'memory'], message: 'spec.memory: Invalid value: "boolean": spec.memory in body must be of type integer,string: "boolean"' },
      { path: ['spec', 'memory'], message: '<nil>: Invalid value: "": "spec.memory" must validate at least one schema (anyOf)' },
      { path: ['spec', 'memory'], message: 'spec.memory: Invalid value: "boolean": spec.memory in body must be of type integer: "boolean"' },
    ]],
    ['fractional memory', vm({ memory: 1.5 }), [
      { path: ['spec', 'memory'], message: 'spec.memory: Invalid value: "number": spec.memory in body must be of type integer,string: "number"' },
      { path: ['spec', 'memory'], message: '<nil>: Invalid value: "": "spec.memory" must validate at least one schema (anyOf)' },
      { path: ['spec', 'memory'], message: 'spec.memory: Invalid value: "number": spec.memory in body must be of type integer: "number"' },
      { path: ['spec', 'memory'], message: 'spec.memory: Invalid value: 1.5: spec.memory in body should be greater than or equal to 1.048576e+06' },
    ]],
    ['vcpus 0', vm({ vcpus: 0 }), [{ path: ['spec', 'vcpus'], message: 'spec.vcpus: Invalid value: 0: spec.vcpus in body should be greater than or equal to 1' }]],
    ['vcpus 257', vm({ vcpus: 257 }), [{ path: ['spec', 'vcpus'], message: 'spec.vcpus: Invalid value: 257: spec.vcpus in body should be less than or equal to 256' }]],
    ['vcpus "x"', vm({ vcpus: 'x' }), [{ path: ['spec', 'vcpus'], message: 'spec.vcpus: Invalid value: "string": spec.vcpus in body must be of type integer: "string"' }]],
    ['vcpus 1.5', vm({ vcpus: 1.5 }), [{ path: ['spec', 'vcpus'], message: 'spec.vcpus: Invalid value: "number": spec.vcpus in body must be of type integer: "number"' }]],
    ['disk without image', vm({ disks: [{}] }), [{ path: ['spec', 'disks', 0, 'image'], message: 'spec.disks[0].image: Required value' }]],
    ['IP 300.1.1.1', vm({ network: { ip: '300.1.1.1' } }), [{
      path: ['spec', 'network', 'ip'],
      message: `spec.network.ip: Invalid value: "300.1.1.1": spec.network.ip in body should match '${IP_PATTERN}'`,
    }]],
    ['missing spec', { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', metadata: { name: 'a' } }, [{ path: ['spec'], message: 'spec: Required value' }]],
    ['missing metadata', { apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine', spec: {} }, [{ path: ['metadata'], message: 'metadata: Required value' }]],
    ['missing metadata.name', vm({}, {}), [{ path: ['metadata', 'name'], message: 'metadata.name: Required value' }]],
    ['uppercase metadata.name', vm({}, { name: 'VM30' }), [{
      path: ['metadata', 'name'],
      message: `metadata.name: Invalid value: "VM30": metadata.name in body should match '${NAME_PATTERN}'`,
    }]],
    ['name with underscore', vm({}, { name: 'a_b' }), [{
      path: ['metadata', 'name'],
      message: `metadata.name: Invalid value: "a_b": metadata.name in body should match '${NAME_PATTERN}'`,
    }]],
    ['unknown kind', { ...vm(), kind: 'VirtualMachineInstance' }, [{
      path: ['kind'],
      message: `no matches for kind "VirtualMachineInstance" in version "wimaxvm.io/v1alpha1" ${KNOWS}`,
    }]],
    ['unknown apiVersion', { ...vm(), apiVersion: 'wimaxvm.io/v1' }, [{
      path: ['kind'],
      message: `no matches for kind "VirtualMachine" in version "wimaxvm.io/v1" ${KNOWS}`,
    }]],
    ['missing apiVersion', { kind: 'VirtualMachine', metadata: { name: 'a' }, spec: {} }, [{ path: ['apiVersion'], message: 'apiVersion and kind are required' }]],
    ['missing kind', { apiVersion: 'wimaxvm.io/v1alpha1', metadata: { name: 'a' }, spec: {} }, [{ path: ['kind'], message: 'apiVersion and kind are required' }]],
    ['null', null, [{ path: [], message: 'a resource must be a mapping with apiVersion, kind, metadata and spec' }]],
    ['a string', 'vm30', [{ path: [], message: 'a resource must be a mapping with apiVersion, kind, metadata and spec' }]],
    ['a number', 42, [{ path: [], message: 'a resource must be a mapping with apiVersion, kind, metadata and spec' }]],
    ['an array', [vm()], [{ path: [], message: 'a resource must be a mapping with apiVersion, kind, metadata and spec' }]],
  ])('%s', (_label, input, expected) => {
    expect(errorsOf(input)).toEqual(expected);
  });

  it.each([['../etc/passwd'], ['/etc/passwd'], ['.hidden'], ['a/../b'], ['a/.b'], ['a//b'], ['a/'], ['a b.qcow2'], ['']])(
    'rejects disk image %j',
    (image) => {
      expect(errorsOf(vm({ disks: [{ image }] }))).toEqual([{
        path: ['spec', 'disks', 0, 'image'],
        message: `spec.disks[0].image: Invalid value: ${JSON.stringify(image)}: spec.disks[0].image in body should match '${IMAGE_PATTERN}'`,
      }]);
    },
  );

  it('reports every error of a document, not just the first', () => {
    const paths = errorsOf(vm({ vcpus: 0, runStrategy: 'x', network: { ip: '1.2.3' } })).map((e) => e.path.join('.'));
    expect(paths.sort()).toEqual(['spec.network.ip', 'spec.runStrategy', 'spec.vcpus']);
  });

  // The validator is looked up by `${apiVersion}/${kind}`, so a "/" moved from apiVersion into
  // kind still finds the VirtualMachine schema and the odd kind is accepted as it is.
  it('rejects a kind that only matches when joined to the apiVersion', () => {
    const result = validateResource({ apiVersion: 'wimaxvm.io', kind: 'v1alpha1/VirtualMachine', metadata: { name: 'a' }, spec: {} });
    expect(result.ok).toBe(false);
  });
});

// Issue 8 (9): "0", "0.5" and "1k" passed the schema and then crash-looped or ran a guest with
// no memory. The schema refuses what the controller refuses (parseMemory), in both modes.
describe('spec.memory: one rule in the schema and the controller', () => {
  it.each([
    ['0'], ['0.5'], ['1k'], ['1'], ['134217728'], ['1M'], ['999Ki'], ['0.5Gi'], ['01Gi'], ['1Mib'], ['1e3'], ['-1Gi'], [' 1Gi'], ['1Pi'],
    [0], [1024], [2 ** 20 - 1], [2 ** 40 + 1], [1048576.5],
  ] as [string | number][])('refuses %j', (memory) => {
    expect(validateResource(vm({ memory })).ok).toBe(false);
    expect(() => parseMemory(memory)).toThrow(/memory/);
  });

  it.each([
    ['1Mi', 2 ** 20], ['256Mi', 256 * 2 ** 20], ['1.5Gi', 1.5 * 2 ** 30], ['2G', 2e9], ['1Ti', 2 ** 40], ['1T', 1e12],
    [2 ** 20, 2 ** 20], [2 ** 40, 2 ** 40],
  ] as [string | number, number][])('accepts %j (%d bytes)', (memory, bytes) => {
    expect(validateResource(vm({ memory })).ok).toBe(true);
    expect(parseMemory(memory)).toBe(bytes);
  });

  // Strings the CRD's pattern lets through (it cannot count) but the controller refuses (above
  // 1Ti): file mode and `validate` check the controller's rule too (issue 15, 10); in Kubernetes
  // mode the controller says why (TerminalError, Stalled).
  it.each([['2Ti'], ['1025Gi'], ['2T']])('%s is refused by validation and by the controller alike', (memory) => {
    const result = validateResource(vm({ memory }));
    expect(result.ok ? [] : result.errors).toEqual([{ path: ['spec', 'memory'], message: expect.stringMatching(/more than the 1Ti wimaxvm accepts/) }]);
    expect(() => parseMemory(memory)).toThrow('more than the 1Ti wimaxvm accepts');
  });
});

describe('goFloat prints limits as Go\'s %v does', () => {
  it.each([[1, '1'], [256, '256'], [4094, '4094'], [999999, '999999'], [1048576, '1.048576e+06'], [2 ** 40, '1.099511627776e+12'], [0.5, '0.5'], [1e-5, '1e-05']])(
    '%d → %s', (n, text) => expect(goFloat(n)).toBe(text),
  );
});

describe('validateResource: input is not changed', () => {
  it.each([
    ['valid input (defaults applied)', vm({ network: {} })],
    ['valid input with status', { ...vm(), status: { printableStatus: 'Running' } }],
    ['invalid input', vm({ vcpus: 0, memory: '-1' }, { name: 'X' })],
  ])('%s', (_label, input) => {
    const before = structuredClone(input);
    const result = validateResource(input);
    expect(input).toEqual(before);
    if (result.ok) {
      expect(result.resource).not.toBe(input);
      expect(result.resource.spec).not.toBe(input.spec);
    }
  });
});

describe('the CRDs as run time reads them', () => {
  it('js-yaml (run time, about six times faster) reads every CRD exactly as the yaml library does', () => {
    const files = readdirSync(CRDS_DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
    const read = crdDocuments();
    expect([...read.keys()]).toEqual(files);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(read.get(f), f).toEqual(parse(readFileSync(join(CRDS_DIR, f), 'utf8')));
  });

  it('every CRD schema passes the JSON Schema meta-schema check that run time skips, and compiles in strict mode', () => {
    expect(checkCrdSchemas().map((k) => k.split('/').pop()).sort()).toEqual([...knownKinds()].sort());
  });

  it('a broken CRD schema is caught by that check', () => {
    const dir = join(process.env.TMPDIR ?? '/tmp', `wimaxvm-crd-check-${process.pid}`);
    const crd = readFileSync(join(CRDS_DIR, 'wimaxclients.wimaxvm.io.yaml'), 'utf8').replace(/^(\s+)type: string$/m, '$1type: strin');
    expect(crd).toMatch(/^\s+type: strin$/m);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'wimaxclients.wimaxvm.io.yaml'), crd);
      expect(() => checkCrdSchemas(dir)).toThrow(/schema is invalid|type/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
