// libvirt's test driver inside a libvirtd of the bench's own (test+unix:///default on a private
// socket): several processes (the controller, virsh, the raw baseline) share one test
// hypervisor, as on test+unix:///default, without loading the machine's shared libvirtd with
// thousands of domains other people's tests would list.
import { rmSync } from 'node:fs';
import { PrivateLibvirtd } from '../../test/helpers/private-libvirtd.js';

export async function privateTestDriver(): Promise<{ uri: string; dispose: () => Promise<void> }> {
  const daemon = new PrivateLibvirtd();
  await daemon.start();
  return {
    uri: `test+unix:///default?socket=${daemon.socket}`,
    // Its test driver's domains live in the daemon's memory only: stopping it is the clean-up.
    dispose: async () => {
      await daemon.kill('SIGTERM');
      rmSync(daemon.dir, { recursive: true, force: true });
    },
  };
}
