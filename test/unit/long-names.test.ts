// Names as long as Kubernetes allows (253 characters, after a namespace of up to 63) where they
// become file names: manifests the API writes, and libvirt's own definition files.
import { describe, expect, it } from 'vitest';
import { fileNameFor } from '../../src/adapters/file-desired-state-writer.js';
import { domainNameProblem, MAX_DOMAIN_NAME_BYTES } from '../../src/reconcilers/virtual-machine/domain-name.js';

describe('file names of manifests written for new resources', () => {
  it('a short name is the file name a person looks for', () => {
    expect(fileNameFor('WimaxClient', 'default', 'st1')).toBe('wimaxclient-default-st1.yaml');
  });

  it.each([200, 253])('a %i-character name makes a file name file systems hold, distinct per name', (length) => {
    const a = fileNameFor('VirtualMachine', 'a'.repeat(63), 'x'.repeat(length - 1) + 'a');
    const b = fileNameFor('VirtualMachine', 'a'.repeat(63), 'x'.repeat(length - 1) + 'b');
    expect(a.length).toBeLessThanOrEqual(200);
    expect(a).toMatch(/^virtualmachine-a{63}-x+-[0-9a-f]{12}\.yaml$/);
    expect(a).not.toBe(b);
  });
});

describe('domain names libvirt can hold', () => {
  it.each([
    ['vm30', undefined],
    ['x'.repeat(MAX_DOMAIN_NAME_BYTES), undefined],
    ['x'.repeat(MAX_DOMAIN_NAME_BYTES + 1), /is 248 characters; .* at most 247/],
    [`lab_${'x'.repeat(253)}`, /is 257 characters; .*the namespace and "_" count too/],
  ])('%#', (name, problem) => {
    const said = domainNameProblem(name);
    if (problem) expect(said).toMatch(problem);
    else expect(said).toBeUndefined();
  });
});
