// status.nodeName is the placement step's, like its condition: a reconcile that stops before the
// placement step (a spec error) keeps it, or a VM the Kubernetes placement leader placed would
// fall back to "no node" and be placed again, elsewhere (src/reconcilers/virtual-machine/steps/run.ts).
import { describe, expect, it } from 'vitest';
import { TerminalError } from '../../src/core/result.js';
import { VM_STEPS } from '../../src/reconcilers/virtual-machine/steps/index.js';
import { stepHarness, vmNamed } from '../helpers/vm-steps.js';

describe('status.nodeName across a reconcile that stops early', () => {
  it('a spec error before placement keeps where the VM was placed', async () => {
    const h = stepHarness();
    const vm = vmNamed('nk-early');
    h.statuses.seed('VirtualMachine/default/nk-early', { ...vm, status: { printableStatus: 'Pending', observedGeneration: 1, conditions: [], allocations: {}, nodeName: 'node-b' } });
    const out = await h.run([{ name: 'spec-check', run: () => { throw new TerminalError('InvalidSpec', 'memory cannot be read'); } }, ...VM_STEPS.filter((s) => s.name === 'placement')], vm);
    expect(out.status).toMatchObject({ printableStatus: 'Failed', nodeName: 'node-b' });
  });

  it('once the placement step runs, it decides (here: no hosts declared and no spec.nodeName, so none)', async () => {
    const h = stepHarness();
    const vm = vmNamed('nk-ran');
    h.statuses.seed('VirtualMachine/default/nk-ran', { ...vm, status: { printableStatus: 'Pending', observedGeneration: 1, conditions: [], allocations: {}, nodeName: 'node-b' } });
    const out = await h.run(VM_STEPS.filter((s) => s.name === 'placement'), vm);
    expect(out.status?.nodeName).toBeUndefined();
  });
});
