// Notices domains started, stopped, defined or undefined behind the controller's back
// (`virsh destroy`, a guest shutting itself down) with two libvirt calls a tick, whatever the
// number of domains: names of inactive domains and ids of active ones. The binding has no
// lifecycle events, so this stands in for them.
import { errorMessage, type Logger } from '../core/logger.js';
import { HypervisorUnavailableError, type Hypervisor } from '../ports/hypervisor.js';

export class DomainPoller {
  private inactive = new Set<string>();
  private readonly nameById = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private primed = false;

  constructor(
    private readonly hypervisor: Hypervisor,
    private readonly intervalMs: number,
    private readonly onChange: (domainName: string) => void,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
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
    for (const id of activeIds) {
      if (this.nameById.has(id)) continue;
      const name = await this.hypervisor.nameOfActiveDomain(id).catch(() => undefined);
      if (name === undefined) continue;
      this.nameById.set(id, name);
      changed.add(name);
    }
    this.inactive = inactive;
    if (!this.primed) {
      this.primed = true;
      return;
    }
    for (const name of changed) this.onChange(name);
  }
}
