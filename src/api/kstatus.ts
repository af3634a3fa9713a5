// kstatus's standard conditions (sigs.k8s.io/cli-utils/pkg/kstatus), which Flux, Argo CD and
// kpt read to decide whether a custom resource is healthy. They are "abnormal-true": absent means
// False. kstatus calls a resource InProgress while Reconciling is True, Failed while Stalled is
// True (the first of the two it meets wins, so never both), InProgress while
// status.observedGeneration is behind metadata.generation, and Current otherwise.
import { removeCondition, setCondition, type Condition } from './meta.js';

export interface Why { reason: string; message: string }

/** What the controller is doing about the resource. */
export type Progress =
  | { state: 'done' }
  /** Working towards the spec (provisioning, starting, retrying after an error). */
  | { state: 'reconciling'; why: Why }
  /** Cannot make progress without the user (a bad spec, a conflict, a crash loop). */
  | { state: 'stalled'; why: Why };

export function setKstatusConditions(conditions: Condition[], progress: Progress, generation: number, now: string): Condition[] {
  let out = conditions;
  for (const [type, state] of [['Reconciling', 'reconciling'], ['Stalled', 'stalled']] as const) {
    out = progress.state === state
      ? setCondition(out, { type, status: 'True', reason: progress.why.reason, message: progress.why.message, observedGeneration: generation }, now)
      : removeCondition(out, type);
  }
  return out;
}
