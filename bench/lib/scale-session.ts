// N VMs converged by the controller as a child process, on the test driver in a libvirtd of the
// bench's own, so that the controller's memory and CPU are its own (the domains live in the
// daemon) and nobody else's tests list our thousands of domains.
import { rmSync } from 'node:fs';
import { ControllerChild, convergedOn } from './controller-child.js';
import { vmDirectory } from './manifests.js';
import { privateTestDriver } from './private-libvirtd.js';

export interface ScaleSession {
  uri: string;
  dir: string;
  controller: ControllerChild;
  /** Wall time from the controller's start to all Running (scrape granularity: 250 ms). */
  convergeMs: number;
  dispose(): Promise<void>;
}

export async function scaleSession(n: number, flags: string[] = []): Promise<ScaleSession> {
  const daemon = await privateTestDriver();
  const { base, dir, state } = vmDirectory(n);
  let controller: ControllerChild | undefined;
  const dispose = async () => {
    await controller?.stop();
    await daemon.dispose();
    rmSync(base, { recursive: true, force: true });
  };
  try {
    const t0 = performance.now();
    controller = await ControllerChild.start(['--dir', dir, '--connect', daemon.uri, '--state-dir', state, ...flags]);
    await controller.until(convergedOn(n), 250);
    return { uri: daemon.uri, dir, controller, convergeMs: performance.now() - t0, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
