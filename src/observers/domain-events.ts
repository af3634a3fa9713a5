// Hypervisor events → the VM controller, within milliseconds of the change. An event is news only
// when it disagrees with what the controller last saw of the domain, judged once no reconcile of
// that domain is in flight: the events of the controller's own define, start and stop then
// match what its reconcile saw, and cost nothing.
import type { DomainState, Hypervisor, HypervisorEvent } from '../ports/hypervisor.js';

export type LastState = DomainState | 'absent' | undefined;

/** Whether the event says something the controller has not seen (pure, for a table test). */
export function isNews(event: HypervisorEvent, last: LastState): boolean {
  switch (event.kind) {
    case 'connection-closed': return false; // the reconnect is followed by a resync and a poll
    case 'reboot': return false; // the guest runs on: nothing to converge
    case 'device-removed': return true; // rare; the reconcile looks at the definition again
    case 'lifecycle':
      switch (event.event) {
        case 'defined': return last === undefined || last === 'absent'; // a new domain; edits wait for the resync
        case 'undefined': return last !== 'absent';
        case 'started': case 'resumed': return last !== 'running' && last !== 'blocked';
        case 'suspended': return last !== 'paused';
        case 'pmsuspended': return last !== 'pmsuspended';
        case 'crashed': return last !== 'crashed';
        case 'stopped': return last !== 'shutoff';
        case 'shutdown': return false; // 'stopped' follows when the guest is off
      }
  }
}

export class DomainEventRouter {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly hypervisor: Pick<Hypervisor, 'subscribe'>,
    private readonly onChange: (domainName: string) => void,
    /** What the controller last saw of a domain. */
    private readonly lastState: (domainName: string) => LastState,
    /** Runs the check once no reconcile of the domain is in flight. */
    private readonly whenSettled: (domainName: string, fn: () => void) => void,
  ) {}

  start(): void {
    this.unsubscribe ??= this.hypervisor.subscribe((event) => this.route(event));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private route(event: HypervisorEvent): void {
    if (event.kind === 'connection-closed') return;
    const name = event.domain;
    this.whenSettled(name, () => {
      if (isNews(event, this.lastState(name))) this.onChange(name);
    });
  }
}
