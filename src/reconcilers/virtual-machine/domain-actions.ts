// One planned action on the domain, with its event and log line: define, start, ACPI shutdown,
// power-off, pause, resume, managed save, undefine (with the deletion gate's permit only). Overlays are made after the
// definition and before each start: a controller killed in between leaves a domain (which the
// deletion gate can remove with its overlays), never overlays that no domain or status names.
import type { ResourceKey } from '../../api/meta.js';
import type { DeletionPermit } from '../../core/deletion-gate.js';
import type { Logger } from '../../core/logger.js';
import type { DiskImages } from '../../ports/disk-images.js';
import type { EventRecorder } from '../../ports/event-recorder.js';
import type { Hypervisor } from '../../ports/hypervisor.js';
import { buildDomainXml, type DomainDefinition } from './domain-xml.js';
import type { Observed } from './observe.js';
import type { Action } from './plan.js';

export interface ActionDeps {
  hypervisor: Hypervisor;
  disks: DiskImages;
  events: EventRecorder;
  logger: Logger;
}

export async function act(
deps: ActionDeps, key: ResourceKey, action: Action, domainName: string, definition: DomainDefinition | undefined, diskImages: string[], observed: Observed | undefined,
  permit?: DeletionPermit,
): Promise<void> {
  const { hypervisor, events, logger, disks } = deps;
  switch (action.type) {
    case 'define': {
      await hypervisor.define(buildDomainXml(definition!));
      await ensureOverlays(disks, domainName, diskImages);
      const verb = observed ? 'Updated' : 'Defined';
      events.record(key, 'Normal', verb, `domain ${domainName} ${verb.toLowerCase()}`);
      logger.info(`${verb.toLowerCase()} ${domainName}`, { key });
      return;
    }
    case 'start':
      await ensureOverlays(disks, domainName, diskImages);
      await hypervisor.start(domainName);
      events.record(key, 'Normal', 'Started', `domain ${domainName} started`);
      logger.info(`started ${domainName}`, { key });
      return;
    case 'shutdown':
      await hypervisor.shutdown(domainName);
      events.record(key, 'Normal', 'ShuttingDown', `asked domain ${domainName} to shut down`);
      logger.info(`shutting down ${domainName}`, { key });
      return;
    case 'destroy':
      await hypervisor.destroy(domainName);
      events.record(key, 'Normal', 'Stopped', `domain ${domainName} powered off`);
      logger.info(`destroyed ${domainName}`, { key });
      return;
    case 'suspend':
      await hypervisor.suspend(domainName);
      events.record(key, 'Normal', 'Paused', `domain ${domainName} paused`);
      logger.info(`paused ${domainName}`, { key });
      return;
    case 'resume':
      await hypervisor.resume(domainName);
      events.record(key, 'Normal', 'Resumed', `domain ${domainName} resumed`);
      logger.info(`resumed ${domainName}`, { key });
      return;
    case 'save':
      await hypervisor.managedSave(domainName);
      events.record(key, 'Normal', 'Saved', `domain ${domainName} saved to disk (managed save); declaring it Running restores it`);
      logger.info(`saved ${domainName}`, { key });
      return;
    case 'undefine':
      await hypervisor.undefine(domainName, permit!);
      logger.info(`undefined ${domainName}`, { key });
      return;
  }
}

/** Each disk's copy-on-write overlay (kept if it exists: the guest's data is in it). */
async function ensureOverlays(disks: DiskImages, domainName: string, diskImages: string[]): Promise<void> {
  for (let i = 0; i < diskImages.length; i++) await disks.ensureOverlay(domainName, i, diskImages[i]!);
}
