// Notices domains started, stopped, defined or undefined behind the controller's back
// (`virsh destroy`, a guest shutting itself down) with two libvirt calls a tick, whatever the
// number of domains: names of inactive domains and ids of active ones. Where libvirt delivers
// domain events (DomainEventRouter) this is only a slow safety net; it stays the fast way for
// drivers without events. The interval is asked again before each tick, as that can change.
import { errorMessage, type Logger } from '../core/logger.js';
import { HypervisorUnavailableError, type Hypervisor } from '../ports/hypervisor.js';

export type Activity = 'active' | 'inactive' | 'absent';

export class DomainPoller {
  private inactive = new Set<string>();
  private readonly nameById = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private primed = false;
  private stopped = true;

  constructor(
    private readonly hypervisor: Hypervisor,
    private readonly intervalMs: () => number,
    private readonly onChange: (domainName: string) => void,
    private readonly logger: Logger,
    /** What the controller itself last saw of a domain: a change it made is no news. */
    private readonly lastObserved: (domainName: string) => Activity | undefined = () => undefined,
    /** The name of an active domain the controller has seen by that id, to spare a lookup. */
    private readonly knownName: (id: number) => string | undefined = () => undefined,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * A look now (after a reconnect: what happened while we were away), and the next one after the
   * interval as it is now (the new connection may deliver events, or not).
   */
  pollNow(): void {
    if (this.stopped) return;
    this.running ??= this.tick().finally(() => (this.running = undefined));
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pollNow(), this.intervalMs());
    this.timer.unref();
  }

  /** One look; the first only records what is there. */
  async tick(): Promise<void> {
    let activity;
    try {
      activity = await this.hypervisor.activity();
    } catch (err) {
      if (!(err instanceof HypervisorUnavailableError)) this.logger.warn('domain poll failed', { error: errorMessage(err) });
      return;
    }
    const changed = new Set<string>();
    const inactive = new Set(activity.inactive);
    for (const name of inactive) if (!this.inactive.has(name)) changed.add(name);
    for (const name of this.inactive) if (!inactive.has(name)) changed.add(name);
    const activeIds = new Set(activity.activeIds);
    for (const [id, name] of this.nameById) {
      if (!activeIds.has(id)) {
        changed.add(name);
        this.nameById.delete(id);
      }
    }
    const newIds = [...activeIds].filter((id) => !this.nameById.has(id));
    const names = await Promise.all(newIds.map((id) => this.knownName(id) ?? this.hypervisor.nameOfActiveDomain(id).catch(() => undefined)));
    newIds.forEach((id, i) => {
      const name = names[i];
      if (name === undefined) return;
      this.nameById.set(id, name);
      changed.add(name);
    });
    this.inactive = inactive;
    if (!this.primed) {
      this.primed = true;
      return;
    }
    const activeNames = new Set(this.nameById.values());
    for (const name of changed) {
      const now: Activity = activeNames.has(name) ? 'active' : inactive.has(name) ? 'inactive' : 'absent';
      if (this.lastObserved(name) !== now) this.onChange(name);
    }
  }
}
