// The graceful stops the reconciler waits on, remembered between reconciles, and what each waits
// for (said in the log once per stop when the guest has not acted on the request).
import type { ResourceKey } from '../../../api/meta.js';
import type { Observed } from '../observe.js';
import type { Plan } from '../plan.js';
import { describeStopWait } from '../stop-wait.js';
import type { StepDeps } from './deps.js';

export function rememberStopping(deps: StepDeps, key: ResourceKey, plan: Plan): void {
  if (plan.stopping) deps.memory.stopping.set(key, plan.stopping);
  else deps.memory.stopping.delete(key);
}

/** What the stop waits for, if any. */
export function stopWait(deps: StepDeps, key: ResourceKey, domainName: string, plan: Plan, after: Observed | undefined): string | undefined {
  const justAsked = plan.actions.some((a) => a.type === 'shutdown');
  const wait = describeStopWait(domainName, plan.stopping, after?.state, justAsked, deps.shutdownTimeoutMs);
  const said = deps.memory.stopWaitSaid;
  if (wait?.ignored && said.get(key) !== plan.stopping!.sinceMs) {
    said.set(key, plan.stopping!.sinceMs);
    deps.logger.info(wait.message, { key });
  }
  if (!plan.stopping) said.delete(key);
  return wait?.message;
}
