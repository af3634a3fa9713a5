// Which VMs (and which other images) use an image: pure, from the images' backing chains and
// the declared VMs' disks. An image is in use when a declared VM names it, names a symlink to
// it, or names an image whose backing chain holds it: removing it would break that VM's disk.

export interface CatalogEntry {
  name: string;
  /** The file's real path, and the real paths of its backing chain after it (when readable). */
  realPath?: string;
  chain?: string[];
  /** Whether the name is a symlink (removing it removes only the link). */
  symlink?: boolean;
}

export interface DeclaredDisks {
  /** "namespace/name" as the CLI prints VMs, "name" in the default namespace. */
  vm: string;
  images: string[];
}

export interface Usage {
  vms: string[];
  /** Other images whose backing chain holds this one. */
  images: string[];
}

/** The files a name stands for: its own real path and its chain. */
function filesOf(entry: CatalogEntry): string[] {
  return entry.realPath ? [entry.realPath, ...(entry.chain ?? [])] : [];
}

/** The usage of every entry, by name. */
export function usageOf(entries: CatalogEntry[], declared: DeclaredDisks[]): Map<string, Usage> {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const usage = new Map(entries.map((e) => [e.name, { vms: new Set<string>(), images: new Set<string>() }]));
  const holders = (file: string) => entries.filter((e) => !e.symlink && e.realPath === file);
  for (const { vm, images } of declared) {
    for (const image of images) {
      const entry = byName.get(image);
      if (!entry) continue;
      usage.get(entry.name)!.vms.add(vm);
      for (const file of filesOf(entry)) for (const holder of holders(file)) usage.get(holder.name)!.vms.add(vm);
    }
  }
  for (const entry of entries) {
    for (const file of entry.chain ?? []) for (const holder of holders(file)) if (holder.name !== entry.name) usage.get(holder.name)!.images.add(entry.name);
  }
  return new Map([...usage].map(([name, u]) => [name, { vms: [...u.vms].sort(), images: [...u.images].sort() }]));
}
