// Where the VM runs (hosts area, issue 11): src/hosts/placement.ts decides; this step records it
// in status.nodeName and the Scheduled condition. A VM that fits on no declared Hypervisor is
// Pending (Scheduled=False, Unschedulable, kube-scheduler's words); one placed on a host this
// controller does not drive waits (Pending) rather than being defined here.
import type { Hypervisor } from '../../../api/hypervisor.js';
import { decidePlacement, type PlacedVm } from '../../../hosts/placement.js';
import type { VmStep } from './step.js';

/** The declared Hypervisors and the VMs placed on them, as the hosts part knows them. */
export interface PlacementView {
  hypervisors(): Hypervisor[];
  /** The Hypervisor whose URI is this controller's own connection, if one is declared. */
  localHost(): string | undefined;
  placed(): PlacedVm[];
  /** Whether this controller drives the host (besides its own connection), and routes a domain there. */
  drives?(host: string): boolean;
  assign?(domainName: string, host: string): void;
}

declare module './deps.js' {
  interface AreaDeps {
    placement?: PlacementView;
  }
}

/** How soon an unschedulable VM looks again (a Hypervisor's status changing enqueues nothing yet). */
export const UNSCHEDULABLE_RETRY_MS = 15_000;

export const placementStep: VmStep = {
  name: 'placement',
  conditions: ['Scheduled'],
  run(ctx, deps) {
    const view = deps.placement;
    if (!view) {
      if (ctx.vm.spec.nodeName) ctx.status.nodeName = ctx.vm.spec.nodeName;
      return;
    }
    const decision = decidePlacement({
      vmKey: ctx.key, spec: ctx.vm.spec, previousNodeName: ctx.previous?.nodeName, definedLocally: ctx.observed !== undefined,
      hypervisors: view.hypervisors(), localHost: view.localHost(), placed: view.placed(),
      ...(view.drives ? { drives: (host: string) => view.drives!(host) } : {}),
    });
    switch (decision.kind) {
      case 'unmanaged':
        if (ctx.vm.spec.nodeName) ctx.status.nodeName = ctx.vm.spec.nodeName;
        return;
      case 'unschedulable':
        ctx.setCondition({ type: 'Scheduled', status: 'False', reason: 'Unschedulable', message: decision.message });
        ctx.status.pending = true;
        return { stop: true, requeueAfterMs: UNSCHEDULABLE_RETRY_MS };
      case 'elsewhere':
        ctx.status.nodeName = decision.nodeName;
        ctx.setCondition({ type: 'Scheduled', status: 'True', reason: 'Scheduled', message: decision.message });
        ctx.status.pending = true;
        return { stop: true, requeueAfterMs: UNSCHEDULABLE_RETRY_MS };
      case 'here':
        view.assign?.(ctx.domainName, decision.nodeName);
        ctx.status.nodeName = decision.nodeName;
        ctx.setCondition({ type: 'Scheduled', status: 'True', reason: 'Scheduled', message: decision.message });
        return;
    }
  },
};
