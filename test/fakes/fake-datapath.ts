// In-memory Datapath for reconciler tests: paths by MAC, ports by name, every change recorded.
import type { ClientPath, Datapath, PortSettings, SlicePath } from '../../src/ports/datapath.js';

export class FakeDatapath implements Datapath {
  readonly paths = new Map<string, ClientPath>();
  readonly ports = new Map<string, PortSettings>();
  readonly slices = new Map<number, SlicePath>();
  readonly calls: { op: string; arg: string }[] = [];

  async ensureBase(): Promise<void> {
    this.calls.push({ op: 'ensureBase', arg: '' });
  }

  async refresh(): Promise<void> {}

  clientPath(mac: string): ClientPath | undefined {
    return this.paths.get(mac);
  }

  clientMacs(): string[] {
    return [...this.paths.keys()];
  }

  async applyClientPath(path: ClientPath): Promise<void> {
    this.calls.push({ op: 'apply', arg: path.mac });
    this.paths.set(path.mac, { ...path });
  }

  async removeClientPath(mac: string): Promise<void> {
    this.calls.push({ op: 'remove', arg: mac });
    this.paths.delete(mac);
  }

  slicePath(vlan: number): SlicePath | undefined {
    return this.slices.get(vlan);
  }

  sliceVlans(): number[] {
    return [...this.slices.keys()];
  }

  async applySlicePath(path: SlicePath): Promise<void> {
    this.calls.push({ op: 'applySlice', arg: String(path.vlan) });
    this.slices.set(path.vlan, { ...path });
  }

  async removeSlicePath(vlan: number): Promise<void> {
    this.calls.push({ op: 'removeSlice', arg: String(vlan) });
    this.slices.delete(vlan);
  }

  async getPort(name: string): Promise<PortSettings | undefined> {
    const port = this.ports.get(name);
    return port && { ...port };
  }

  async setPort(name: string, settings: PortSettings): Promise<void> {
    this.calls.push({ op: 'setPort', arg: name });
    this.ports.set(name, { ...settings });
  }

  /** A VM port appears on the bridge (libvirt attached it when the guest started). */
  plug(name: string, settings: PortSettings = {}): void {
    this.ports.set(name, settings);
  }

  mutations(): string[] {
    return this.calls.filter((c) => c.op !== 'ensureBase').map((c) => `${c.op} ${c.arg}`);
  }
}
