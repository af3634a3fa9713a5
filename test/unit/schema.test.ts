import { describe, expect, it } from 'vitest';
import { validateResource, type FieldError } from '../../src/api/schema.js';

const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const IMAGE_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$';
const MAC_PATTERN = '^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$';
const IP_PATTERN = '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$';
const QUANTITY_MSG = 'must be a whole number of bytes or a quantity such as 256Mi';
const KNOWS = '(wimaxvm knows wimaxvm.io/v1alpha1 ShapingPolicy, wimaxvm.io/v1alpha1 VirtualMachine, wimaxvm.io/v1alpha1 WimaxClient)';

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
    ['negative memory', vm({ memory: '-5' }), [{ path: ['spec', 'memory'], message: `spec.memory: Invalid value: "-5": spec.memory ${QUANTITY_MSG}` }]],
    ['integer memory below minimum', vm({ memory: 12 }), [{ path: ['spec', 'memory'], message: `spec.memory: Invalid value: 12: spec.memory ${QUANTITY_MSG}` }]],
    ['fractional number memory', vm({ memory: 1048576.5 }), [{ path: ['spec', 'memory'], message: `spec.memory: Invalid value: 1048576.5: spec.memory ${QUANTITY_MSG}` }]],
    ['vcpus 0', vm({ vcpus: 0 }), [{ path: ['spec', 'vcpus'], message: 'spec.vcpus: Invalid value: 0: spec.vcpus in body must be >= 1' }]],
    ['vcpus 257', vm({ vcpus: 257 }), [{ path: ['spec', 'vcpus'], message: 'spec.vcpus: Invalid value: 257: spec.vcpus in body must be <= 256' }]],
    ['vcpus "x"', vm({ vcpus: 'x' }), [{ path: ['spec', 'vcpus'], message: 'spec.vcpus: Invalid value: "x": spec.vcpus in body must be of type integer' }]],
    ['vcpus 1.5', vm({ vcpus: 1.5 }), [{ path: ['spec', 'vcpus'], message: 'spec.vcpus: Invalid value: 1.5: spec.vcpus in body must be of type integer' }]],
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
