// The declared power state (spec.powerState: Running, Paused, Saved) as actions on the domain.
// Honoured when the runStrategy wants the guest running, or has it running and not finished
// (Once, RerunOnFailure); never for Manual (the user drives) or Halted. A managed-save image is
// the guest paused to disk: it never means the guest finished, so a declared Running restores it
// under every strategy that honours the declaration. Undeclared: pause and save are left as they
// are (a guest paused by hand stays paused). Pure.
import type { PowerState, RunStrategy } from '../../api/virtual-machine.js';
import type { DomainState } from '../../ports/hypervisor.js';

export type PowerAction = { type: 'start' } | { type: 'suspend' } | { type: 'resume' } | { type: 'save' };

export interface PowerStateInput {
  runStrategy: RunStrategy;
  powerState?: PowerState;
  /** What the runStrategy alone wants (plan.ts's wantedPower). */
  want: 'run' | 'stop' | 'keep';
  state: DomainState;
  /** libvirt's reason for the state ('user' for a pause someone asked for). */
  reason?: string;
  /** Shut off with a managed-save image (the next start restores it). */
  saved: boolean;
}

/**
 * The actions the declared power state calls for; undefined when it has nothing to say (the
 * runStrategy's own plan applies), [] when it holds the guest where it is.
 */
export function powerStateActions(input: PowerStateInput): PowerAction[] | undefined {
  const { powerState, want, state, saved } = input;
  if (!powerState || input.runStrategy === 'Manual' || want === 'stop') return undefined;
  const off = state === 'shutoff';
  const restorable = off && saved;
  // Once and RerunOnFailure that finished (off, not saved) are left off.
  if (want === 'keep' && off && !restorable) return undefined;
  const up = state === 'running' || state === 'blocked';
  switch (powerState) {
    case 'Running':
      // Only a pause someone asked for is undone: libvirt pauses for its own work (a save, an I/O error) too.
      if (state === 'paused' && input.reason === 'user') return [{ type: 'resume' }];
      if (restorable) return [{ type: 'start' }];
      return undefined;
    case 'Paused':
      if (up) return [{ type: 'suspend' }];
      if (state === 'paused') return [];
      if (off) return [{ type: 'start' }, { type: 'suspend' }];
      return undefined;
    case 'Saved':
      // A paused guest is saved paused: a later Running restores it and resumes it.
      if (up || state === 'paused') return [{ type: 'save' }];
      // Off: saved already, or never ran (nothing in memory to keep): stays off.
      if (off) return [];
      return undefined;
  }
}

/** Whether the guest is where its declared power state wants it: shown as converged. */
export function holdsPowerState(powerState: PowerState | undefined, state: DomainState | undefined, saved: boolean): boolean {
  if (powerState === 'Paused') return state === 'paused';
  if (powerState === 'Saved') return state === 'shutoff' && saved;
  return false;
}
