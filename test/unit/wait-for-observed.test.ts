import { describe, expect, it } from 'vitest';
import { observed } from '../../src/cli/wait-for-observed.js';

const object = (spec: unknown, generation: number, observedGeneration?: number) => ({
  apiVersion: 'wimaxvm.io/v1alpha1', kind: 'VirtualMachine',
  metadata: { name: 'a', namespace: 'default', uid: 'u', generation, creationTimestamp: '' },
  spec, status: observedGeneration === undefined ? { printableStatus: 'Running' } : { printableStatus: 'Running', observedGeneration },
});

describe('observed: has the controller seen the spec just written?', () => {
  const written = { runStrategy: 'Always', memory: '64Mi', network: { vlan: 7, mac: '52:54:00:00:00:01' } };
  it.each([
    ['the same spec, status of its generation', object({ network: { mac: '52:54:00:00:00:01', vlan: 7 }, memory: '64Mi', runStrategy: 'Always' }, 3, 3), true],
    ['the old spec (the controller has not read the file yet)', object({ ...written, runStrategy: 'Halted' }, 2, 2), false],
    ['the new spec, but a status computed for an older generation', object(written, 3, 2), false],
    ['no observedGeneration at all', object(written, 3), false],
    ['nothing stored', undefined, false],
  ])('%s → %s', (_, stored, expected) => {
    expect(observed(stored, written)).toBe(expected);
  });
});
