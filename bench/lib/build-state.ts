// A controller's state directory holding N converged VMs, made by the real controller on
// test:///default in this process: what `wimaxvm get` reads.
import { buildConfig } from '../../src/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { startController } from '../../src/main.js';
import { vmDirectory } from './manifests.js';

export async function convergedState(n: number, prefix = 'vm'): Promise<{ base: string; dir: string; state: string }> {
  const made = vmDirectory(n, prefix);
  const config = buildConfig({ dir: made.dir, connect: 'test:///default', 'state-dir': made.state, resync: '1h', listen: 'off' });
  const running = await startController(config, silentLogger);
  const keys = Array.from({ length: n }, (_, i) => `VirtualMachine/default/${prefix}-${i}`);
  for (;;) {
    await running.idle();
    if (keys.every((k) => running.statuses.get(k)?.status?.printableStatus === 'Running')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await running.stop();
  return made;
}
