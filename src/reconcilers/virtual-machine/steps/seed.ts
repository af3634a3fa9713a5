// The cloud-init NoCloud seed (src/seed/): made, or kept when its content is the same, in the
// domain's overlay folder, and attached to the definition as a read-only CD-ROM before the power
// step defines or starts the domain. A VM gets one when its spec asks (spec.cloudInit) or when
// it has an address to configure (seed-request.ts). Owns SeedReady.
import type { VirtualMachine } from '../../../api/virtual-machine.js';
import { TerminalError } from '../../../core/result.js';
import type { SeedImages } from '../../../ports/seed-images.js';
import type { SeedAddress } from '../../../seed/network-config.js';
import { noCloudSeed, type NoCloudSeed } from '../../../seed/nocloud-seed.js';
import { SeedSpecError, seedRequestFor } from '../../../seed/seed-request.js';
import { UserDataError } from '../../../seed/user-data.js';
import { extendSpecHash } from '../desired-definition.js';
import type { VmStep } from './step.js';

declare module './deps.js' {
  interface AreaDeps {
    /** Where seed images are made; without it no VM gets a seed. */
    seeds?: SeedImages;
    /**
     * The VM's static IPv4 configuration for the seed's network-config, given the address the ip
     * step holds for it (`ip`): main.ts wires the pools area's guestAddressFor over the VM's
     * declared pools. Without it, seeds carry no network-config.
     */
    seedAddress?: (vm: VirtualMachine, ip: string | undefined) => SeedAddress | undefined;
  }
}

export const SEED_READY = 'SeedReady';

export const seedStep: VmStep = {
  name: 'seed',
  conditions: [SEED_READY],
  async run(ctx, deps) {
    const definition = ctx.definition;
    if (!deps.seeds || !definition) return;
    let seed: NoCloudSeed | undefined;
    try {
      const request = seedRequestFor(ctx.vm, ctx.domainName, definition.mac, deps.seedAddress?.(ctx.vm, ctx.ip));
      seed = request && noCloudSeed(request);
    } catch (err) {
      if (!(err instanceof SeedSpecError || err instanceof UserDataError)) throw err;
      // The domain stays as it is (running or not) until the user fixes the spec.
      ctx.setCondition({ type: SEED_READY, status: 'False', reason: 'InvalidCloudInit', message: err.message });
      throw new TerminalError('InvalidCloudInit', err.message);
    }
    if (!seed) return; // no seed wanted: SeedReady goes, and so does the CD-ROM
    // A failure to write it is retried with backoff (status stays as it was): without the seed
    // the guest would boot unconfigured.
    const path = await deps.seeds.ensureSeed(ctx.domainName, seed);
    definition.seedPath = path;
    extendSpecHash(definition, { seed: seed.digest });
    const network = seed.files['network-config'] ? 'with a static network config' : 'without a network config';
    ctx.setCondition({ type: SEED_READY, status: 'True', reason: 'SeedBuilt', message: `cloud-init seed ${path} (${seed.digest}), ${network}; read by the guest at boot` });
  },
};
