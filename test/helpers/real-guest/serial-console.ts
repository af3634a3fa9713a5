// Reading the tiny guest's serial console from the file libvirt's virtlogd writes it to. Every
// line the guest's own scripts print starts "wimaxvm-guest" (see init.sh); kernel and busybox
// lines come in between.
import { readFileSync, statSync } from 'node:fs';
import { serialLogPath } from '../../../src/reconcilers/virtual-machine/domain-xml.js';

/** The lines the guest prints, as patterns. */
// Patterns that capture up to the end of their line match complete lines only: the log is read
// while virtlogd writes it, and a line read half-way gave a truncated boot id (seen in a CI run).
export const GUEST_SAYS = {
  /** After boot: modules loaded, ACPI listener and DHCP client started. */
  ready: /wimaxvm-guest ready boot=([0-9a-f-]+)(?=\r*\n)/,
  /** Once a second, from the moment it is ready; the counter lives in the guest's memory. */
  counter: /wimaxvm-guest counter (\d+) boot=([0-9a-f-]+)(?=\r*\n)/g,
  /** Each lease udhcpc gets (bound) or renews. */
  dhcp: /wimaxvm-guest dhcp (?:bound|renew) (\S+) ([0-9.]+)\/(\d+)(?=\r*\n)/,
  /** nocloud.sh (a stand-in for cloud-init) set the host name its cloud-init seed gave. */
  seedHostname: /wimaxvm-guest seed hostname (\S+)(?=\r*\n)/,
  /** nocloud.sh configured the seed's address (and gateway) on the NIC with the seed's MAC. */
  seedAddress: /wimaxvm-guest seed address (\S+) ([0-9.]+)\/(\d+) gateway=(\S+)(?=\r*\n)/,
  /** nocloud.sh found no usable seed or could not apply it. */
  seedError: /wimaxvm-guest seed error: .*/,
  /** The ACPI power button was pressed; the guest powers off next. */
  powerButton: /wimaxvm-guest power button: powering off/,
};

export interface CounterLine {
  n: number;
  boot: string;
}

export interface WaitOptions {
  /** Only the log after this many bytes counts (a `size()` taken earlier). */
  from?: number;
  timeoutMs?: number;
}

export class SerialLog {
  constructor(readonly path: string) {}

  /** The log from byte `from` on; empty while the file does not exist yet. */
  text(from = 0): string {
    try {
      return readFileSync(this.path).subarray(from).toString('latin1');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  /** The log's length now: pass it as `from` to look only at what the guest says next. */
  size(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  counters(from = 0): CounterLine[] {
    return [...this.text(from).matchAll(GUEST_SAYS.counter)].map((m) => ({ n: Number(m[1]), boot: m[2]! }));
  }

  /** Waits for the first match of `pattern` after `from`; the error shows the log's tail. */
  async waitFor(pattern: RegExp, what: string, opts: WaitOptions = {}): Promise<RegExpExecArray> {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    const once = new RegExp(pattern.source, pattern.flags.replace('g', ''));
    for (;;) {
      const match = once.exec(this.text(opts.from));
      if (match) return match;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for the guest's ${what} in ${this.path}; its last lines:\n${this.text(opts.from).split('\n').slice(-15).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The boot id of the next ready line. */
  async waitForReady(opts: WaitOptions = {}): Promise<string> {
    return (await this.waitFor(GUEST_SAYS.ready, 'ready line', opts))[1]!;
  }

  /** The IPv4 address of the next DHCP lease the guest reports. */
  async waitForAddress(opts: WaitOptions = {}): Promise<string> {
    return (await this.waitFor(GUEST_SAYS.dhcp, 'DHCP lease', opts))[2]!;
  }

  /** The next counter line after `from`. */
  async nextCounter(opts: WaitOptions = {}): Promise<CounterLine> {
    const m = await this.waitFor(GUEST_SAYS.counter, 'counter line', opts);
    return { n: Number(m[1]), boot: m[2]! };
  }
}

/** The serial console of the domain wimaxvm made for a VM (its domain name). */
export function wimaxvmSerialLog(domainName: string): SerialLog {
  return new SerialLog(serialLogPath(domainName));
}
