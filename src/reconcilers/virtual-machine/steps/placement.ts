// Where the VM runs (hosts area, issue 11): src/hosts/placement.ts decides; this step records it
// in status.nodeName and the Scheduled condition. A VM that fits on no declared Hypervisor is
// Pending (Scheduled=False, Unschedulable, kube-scheduler's words); one placed on a host this
// controller does not drive waits (Pending) rather than being defined here.
import type { Hypervisor } from '../../../api/hypervisor.js';
import { decidePlacement, type PlacedVm } from '../../../hosts/placement.js';
import { describeMove, type MigrationJob, type MoveAttempt } from '../../../hosts/migrations.js';
import type { StepOutcome, VmContext, VmStep } from './step.js';

/** The declared Hypervisors and the VMs placed on them, as the hosts part knows them. */
export interface PlacementView {
  hypervisors(): Hypervisor[];
  /** The Hypervisor whose URI is this controller's own connection, if one is declared. */
  localHost(): string | undefined;
  placed(): PlacedVm[];
  /** Whether this controller drives the host (besides its own connection), and routes a domain there. */
  drives?(host: string): boolean;
  /** Hosts a guest defined here may move to (Kubernetes mode: other nodes); the driven ones unless said. */
  movableTo?(host: string): boolean;
  assign?(domainName: string, host: string): void;
  /** Where the domain's calls go now. */
  hostOf?(domainName: string): string | undefined;
  /** The move (live or cold) of the domain to `to`: started the first time, its job afterwards. */
  migrate?(domainName: string, from: string, to: string, attempt?: MoveAttempt): MigrationJob;
  clearMigration?(domainName: string): void;
  /**
   * Kubernetes mode: the old definition of a VM moved to node `to` and handed over leaves this
   * host, with the deletion gate's permit (throws MovedButKept when withheld).
   */
  removeMovedCopy?(key: string, domainName: string, to: string): Promise<void>;
  /** The domain's move, while it runs. */
  moveUnderWay?(domainName: string): MigrationJob | undefined;
}

declare module './deps.js' {
  interface AreaDeps {
    placement?: PlacementView;
  }
}

/** How soon an unschedulable VM looks again (a Hypervisor's status changing enqueues nothing yet). */
export const UNSCHEDULABLE_RETRY_MS = 15_000;
/** How often a VM being moved looks at its move: its status (with the progress) is written at most this often. */
export const MIGRATION_POLL_MS = 1000;

export const placementStep: VmStep = {
  name: 'placement',
  conditions: ['Scheduled'],
  run(ctx, deps) {
    const view = deps.placement;
    if (!view) {
      if (ctx.vm.spec.nodeName) ctx.status.nodeName = ctx.vm.spec.nodeName;
      return;
    }
    // A move under way is followed to its end whatever the hosts look like meanwhile (the guest's
    // incoming copy counts on its destination already: deciding again would find no room for it).
    const moving = view.moveUnderWay?.(ctx.domainName);
    if (moving) return migrating(ctx, moving.from, moving, moving.drain === true);
    const decision = decidePlacement({
      vmKey: ctx.key, spec: ctx.vm.spec, previousNodeName: ctx.previous?.nodeName, definedLocally: ctx.observed !== undefined,
      hypervisors: view.hypervisors(), localHost: view.localHost(), placed: () => view.placed(),
      ...(view.drives ? { drives: (host: string) => view.drives!(host) } : {}),
      ...(view.movableTo ? { movableTo: (host: string) => view.movableTo!(host) } : {}),
      currentHost: view.hostOf?.(ctx.domainName),
    });
    switch (decision.kind) {
      case 'unmanaged':
        if (ctx.vm.spec.nodeName) ctx.status.nodeName = ctx.vm.spec.nodeName;
        return;
      case 'unschedulable':
        ctx.setCondition({ type: 'Scheduled', status: 'False', reason: 'Unschedulable', message: decision.message });
        ctx.status.pending = true;
        return { stop: true, requeueAfterMs: UNSCHEDULABLE_RETRY_MS };
      case 'elsewhere': {
        ctx.status.nodeName = decision.nodeName;
        ctx.setCondition({ type: 'Scheduled', status: 'True', reason: 'Scheduled', message: decision.message });
        // Moved there by this controller: Migrating until the destination's controller reports it.
        const moved = view.movableTo !== undefined && view.hostOf?.(ctx.domainName) === decision.nodeName;
        if (moved) ctx.claimPrintableStatus('Migrating', 'Migrating', `${decision.message}; waiting for it to report`);
        else ctx.status.pending = true;
        return { stop: true, requeueAfterMs: UNSCHEDULABLE_RETRY_MS };
      }
      case 'migrate': {
        const { from, to } = decision;
        ctx.status.nodeName = from;
        if (!view.migrate) {
          ctx.setCondition({ type: 'Scheduled', status: 'True', reason: 'Scheduled', message: `runs on ${from}; ${decision.drain !== undefined ? `${from} is being drained` : `spec.nodeName names ${to}`}, and this controller cannot move it` });
          return;
        }
        // A failed move is tried again only when what it was asked with changes: the spec, the drain, running or not.
        const spec = ctx.vm.spec;
        const job = view.migrate(ctx.domainName, from, to, {
          token: [ctx.vm.metadata.generation, decision.drain ?? ''].join('/'), power: ctx.observed?.state === 'running' ? 'running' : 'off', drain: decision.drain !== undefined,
          // Stop, move, start: only a guest its runStrategy starts again at the destination, running (not paused or saved).
          mayStop: (spec.runStrategy === 'Always' || spec.runStrategy === 'RerunOnFailure') && (spec.powerState ?? 'Running') === 'Running',
        });
        if (job.error && !job.moved) {
          const kind = job.mode === 'cold' ? 'cold move' : 'live migration';
          const after = job.stopped ? 'it was stopped for the move and starts again on' : 'it stays on';
          ctx.setCondition({ type: 'Scheduled', status: 'True', reason: 'MigrationFailed', message: `${kind} to ${job.to} failed: ${job.error}; ${after} ${from} (not tried again until its spec${job.stopped ? '' : ', its power state'}${decision.drain ? ', the drain' : ''} or the destination changes)` });
          return;
        }
        return migrating(ctx, from, job, decision.drain !== undefined);
      }
      case 'here':
        view.clearMigration?.(ctx.domainName);
        view.assign?.(ctx.domainName, decision.nodeName);
        ctx.status.nodeName = decision.nodeName;
        ctx.setCondition({ type: 'Scheduled', status: 'True', reason: decision.reason ?? 'Scheduled', message: decision.message });
        return;
    }
  },
};

/** Migrating, with the move's figures; looked at again in a second. */
function migrating(ctx: VmContext, from: string, job: MigrationJob, drain: boolean): StepOutcome {
  ctx.status.nodeName = from;
  const message = describeMove(job, drain);
  ctx.setCondition({ type: 'Scheduled', status: 'True', reason: 'Migrating', message });
  ctx.claimPrintableStatus('Migrating', 'Migrating', message);
  return { stop: true, requeueAfterMs: MIGRATION_POLL_MS };
}
