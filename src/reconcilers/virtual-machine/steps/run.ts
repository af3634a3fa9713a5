// Runs a VirtualMachine's steps in order and writes its status once at the end, whether the
// steps all ran, one stopped the reconcile, or one found a spec error only the user can fix.
import type { ResourceKey } from '../../../api/meta.js';
import type { PrintableStatus, VirtualMachine, VirtualMachineStatus } from '../../../api/virtual-machine.js';
import { errorMessage } from '../../../core/logger.js';
import { TerminalError, type ReconcileResult } from '../../../core/result.js';
import type { Observed } from '../observe.js';
import type { StatusInput } from '../status.js';
import { statusInputFor, writeVmStatus } from '../status-writer.js';
import type { StepDeps } from './deps.js';
import type { PowerWish, StepCondition, VmContext, VmStep } from './step.js';

class VmRun implements VmContext {
  domain?: Observed;
  mac?: string;
  vlan?: number;
  ip?: string;
  appliedLive: string[] = [];
  diskImages: string[] = [];
  definition?: VmContext['definition'];
  power: PowerWish;
  status: Partial<StatusInput> = {};
  failure?: unknown;
  requeueMs?: number;
  readonly conditions: StepCondition[] = [];
  claim?: { printableStatus: PrintableStatus; reason: string; message: string };

  constructor(
    readonly key: ResourceKey, readonly vm: VirtualMachine, readonly domainName: string,
    readonly observed: Observed | undefined, readonly previous: VirtualMachineStatus | undefined,
  ) {
    this.domain = observed;
    this.power = { runStrategy: vm.spec.runStrategy, ...(vm.spec.powerState ? { powerState: vm.spec.powerState } : {}) };
  }

  requeueAfter(ms: number): void {
    this.requeueMs = Math.min(ms, this.requeueMs ?? ms);
  }

  setCondition(condition: StepCondition): void {
    const at = this.conditions.findIndex((c) => c.type === condition.type);
    if (at >= 0) this.conditions[at] = condition;
    else this.conditions.push(condition);
  }

  claimPrintableStatus(printableStatus: PrintableStatus, reason: string, message: string): void {
    this.claim = { printableStatus, reason, message };
  }
}

export function newVmContext(
  key: ResourceKey, vm: VirtualMachine, domainName: string, observed: Observed | undefined, previous: VirtualMachineStatus | undefined,
): VmContext {
  return new VmRun(key, vm, domainName, observed, previous);
}

export async function runSteps(steps: readonly VmStep[], context: VmContext, deps: StepDeps): Promise<ReconcileResult> {
  const ctx = context as VmRun;
  const ran: VmStep[] = [];
  let stop: { requeueAfterMs?: number } | undefined;
  try {
    for (const step of steps) {
      ran.push(step);
      const outcome = await step.run(ctx, deps);
      if (outcome) {
        stop = outcome;
        break;
      }
    }
  } catch (err) {
    if (!(err instanceof TerminalError)) {
      deps.problems.resolved(ctx.key);
      throw err; // retried with backoff; status stays as it was
    }
    deps.problems.report(ctx.key, err.reason, err.message);
    await writeStatus(ctx, deps, ran, { reason: err.reason, message: err.message, terminal: true });
    return {};
  }
  deps.problems.resolved(ctx.key);
  await writeStatus(ctx, deps, ran, ctx.failure ? { reason: 'ReconcileError', message: errorMessage(ctx.failure), terminal: false } : undefined);
  if (ctx.failure) throw ctx.failure;
  for (const step of ran) step.afterStatus?.(ctx, deps);
  if (stop?.requeueAfterMs !== undefined) ctx.requeueAfter(stop.requeueAfterMs);
  return ctx.requeueMs !== undefined ? { requeueAfterMs: ctx.requeueMs } : {};
}

async function writeStatus(ctx: VmRun, deps: StepDeps, ran: VmStep[], error?: StatusInput['error']): Promise<void> {
  const stopping = deps.memory.stopping.get(ctx.key);
  const progress = { ...(stopping ? { stopping } : {}), startFailures: deps.memory.startFailures.get(ctx.key) ?? 0 };
  const input: StatusInput = { ...statusInputFor(deps, ctx.key, ctx.vm, ctx.domain, progress, error), ...ctx.status };
  if (ctx.ip !== undefined) {
    const { mac, vlan, uuid } = input.allocations;
    input.allocations = { ...(mac ? { mac } : {}), ip: ctx.ip, ...(vlan !== undefined ? { vlan } : {}), ...(uuid ? { uuid } : {}) };
  }
  // Where it runs is the placement step's, like its condition: kept as it was when not reached (a
  // spec error before it), or a VM the Kubernetes placement leader placed would fall back unplaced.
  if (input.nodeName === undefined && ctx.previous?.nodeName && !ran.some((s) => s.name === 'placement')) input.nodeName = ctx.previous.nodeName;
  input.runStrategy = ctx.power.runStrategy;
  if (ctx.power.powerState) input.powerState = ctx.power.powerState;
  const owned = ran.flatMap((s) => s.conditions ?? []);
  if (owned.length) input.stepConditions = { set: ctx.conditions, owned };
  if (ctx.claim) input.claim = ctx.claim;
  await writeVmStatus(deps, ctx.key, ctx.vm, input);
}
