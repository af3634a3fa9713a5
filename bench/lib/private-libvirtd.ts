// libvirt's test driver inside a libvirtd of the bench's own (test+unix:///default on a private
// socket): several processes (the controller, virsh, the raw baseline) share one test
// hypervisor, as on test+unix:///default, without loading the machine's shared libvirtd with
// thousands of domains other people's tests would list.
import { rmSync } from 'node:fs';
import { PrivateLibvirtd } from '../../test/helpers/private-libvirtd.js';
import { openRaw } from './raw-libvirt.js';

export async function privateTestDriver(): Promise<{ uri: string; dispose: () => Promise<void> }> {
  const daemon = new PrivateLibvirtd();
  await daemon.start();
  const uri = `test+unix:///default?socket=${daemon.socket}`;
  // The daemon frees the test driver's state when its last connection closes: one `virsh`
  // process after another would each find an empty hypervisor. This one keeps it.
  const keeper = await openRaw(uri);
  return {
    uri,
    // Its test driver's domains live in the daemon's memory only: stopping it is the clean-up.
    dispose: async () => {
      await keeper.close().catch(() => undefined);
      await daemon.kill('SIGTERM');
      rmSync(daemon.dir, { recursive: true, force: true });
    },
  };
}
