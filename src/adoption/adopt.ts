// `wimaxvm adopt`: for each domain, the declaration that matches it and the claim on it. The
// claim (owner metadata marked adopted, no controller named) is set first, through libvirt's
// metadata call only: no controller touches a claimed domain until it is declared (ownership.ts),
// so there is no moment when a declaration names a domain that is not claimed, nor a claimed
// domain some controller could remove. Then the declaration is written; if that fails, the claim
// is taken back.
import { resourceKey } from '../api/meta.js';
import { errorMessage } from '../core/logger.js';
import { DesiredStateError, type DesiredStateWriter, type NewResource } from '../ports/desired-state-writer.js';
import { ownerElementXml } from '../reconcilers/virtual-machine/domain-xml.js';
import type { AdoptionHost } from './adoption-host.js';
import { adoptionOf, type AdoptOptions, type Adoption } from './domain-declaration.js';
import { diskSourceFiles, openvswitchPort } from './domain-devices.js';

export type Adopted = Extract<Adoption, { ok: true }>;

export type AdoptResult =
  | { domain: string; outcome: 'adopted' | 'would-adopt'; adoption: Adopted }
  | { domain: string; outcome: 'refused'; reason: string; alreadyManaged?: boolean };

export interface AdoptDeps {
  host: AdoptionHost;
  /** Where declarations go (the watched directory, or the API server). */
  writer: DesiredStateWriter;
  /** The image directory, as the controller is given it. */
  imageDir: string;
}

/** What adoption would declare for one domain, or why it cannot; looks only. */
export async function planAdoption(host: AdoptionHost, imageDir: string, domainName: string, opts: AdoptOptions): Promise<Adoption> {
  const domain = await host.describe(domainName);
  if (!domain) return { ok: false, reason: `no libvirt domain ${domainName} on ${host.uri}` };
  if (!domain.persistent) return { ok: false, reason: 'it is transient (created, never defined); define it (virsh dumpxml NAME > f.xml; virsh define f.xml) first' };
  const realPaths: Record<string, string | undefined> = {};
  for (const source of diskSourceFiles(domain.persistentXml)) realPaths[source] = await host.realPath(source);
  const port = domain.liveXml ? openvswitchPort(domain.liveXml) : undefined;
  const portTag = port ? await host.portTag(port) : undefined;
  return adoptionOf({
    domainName, uuid: domain.uuid, state: domain.state, persistentXml: domain.persistentXml,
    imageDir: (await host.realPath(imageDir)) ?? imageDir, realPaths, ...(portTag !== undefined ? { portTag } : {}),
  }, opts);
}

export async function adoptDomains(deps: AdoptDeps, domainNames: string[], opts: AdoptOptions & { dryRun?: boolean }): Promise<AdoptResult[]> {
  const results: AdoptResult[] = [];
  for (const domain of domainNames) {
    const adoption = await planAdoption(deps.host, deps.imageDir, domain, opts);
    if (!adoption.ok) {
      results.push({ domain, outcome: 'refused', reason: adoption.reason, ...(adoption.alreadyManaged ? { alreadyManaged: true } : {}) });
      continue;
    }
    if (opts.dryRun) {
      results.push({ domain, outcome: 'would-adopt', adoption });
      continue;
    }
    const refusal = await claimAndDeclare(deps, domain, adoption);
    results.push(refusal ? { domain, outcome: 'refused', reason: refusal } : { domain, outcome: 'adopted', adoption });
  }
  return results;
}

/** undefined when done; the reason otherwise, with the domain as it was. */
async function claimAndDeclare(deps: AdoptDeps, domain: string, adoption: Adopted): Promise<string | undefined> {
  const live = (await deps.host.describe(domain))?.state !== 'shutoff';
  try {
    await deps.host.setOwnerElement(domain, ownerElementXml(adoption.owner), live);
  } catch (err) {
    return `libvirt refused the claim: ${errorMessage(err)}`;
  }
  try {
    await deps.writer.create(adoption.declaration as unknown as NewResource);
    return undefined;
  } catch (err) {
    const why = err instanceof DesiredStateError && err.code === 'Conflict'
      ? `${resourceKey('VirtualMachine', adoption.owner.namespace, adoption.owner.name)} is declared already (${err.message}); adopting never replaces a declaration`
      : `the declaration could not be written: ${errorMessage(err)}`;
    try {
      await deps.host.setOwnerElement(domain, null, live);
    } catch (undo) {
      return `${why}; and the claim could not be taken back (${errorMessage(undo)}): remove it with virsh metadata ${domain} https://wimaxvm.io/xmlns/domain/v1alpha1 --remove --config${live ? ' --live' : ''}`;
    }
    return why;
  }
}
