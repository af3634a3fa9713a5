// Desired state, as the source last saw it good. The source writes; reconcilers read by key.
import type { Resource, ResourceKey } from '../api/meta.js';

/** Why a resource's declaration could not be taken as it is now (it keeps its last good state). */
export interface SourceProblem {
  reason: 'InvalidManifest' | 'DuplicateDeclaration';
  message: string;
}

export type StoreListener = (key: ResourceKey) => void;

export class DesiredStore {
  private readonly objects = new Map<ResourceKey, Resource<any, unknown>>();
  /** The keys of each kind: reconcilers ask for one kind on every pass, and a scan of every key made a converge quadratic. */
  private readonly byKind = new Map<string, Set<ResourceKey>>();
  private readonly problems = new Map<ResourceKey, SourceProblem>();
  private readonly listeners: StoreListener[] = [];

  get<T extends Resource<any, unknown>>(key: ResourceKey): T | undefined {
    return this.objects.get(key) as T | undefined;
  }

  has(key: ResourceKey): boolean {
    return this.objects.has(key);
  }

  keys(): IterableIterator<ResourceKey> {
    return this.objects.keys();
  }

  /** The keys of one kind, in one namespace when given (keys are "Kind/namespace/name"; cluster-scoped "Kind/name"). */
  keysOf(kind: string, namespace?: string): ResourceKey[] {
    const keys = this.byKind.get(kind);
    if (!keys) return [];
    if (namespace === undefined) return [...keys];
    const prefix = `${kind}/${namespace}/`;
    return [...keys].filter((key) => key.startsWith(prefix));
  }

  get size(): number {
    return this.objects.size;
  }

  set(key: ResourceKey, object: Resource<any, unknown>): void {
    this.objects.set(key, object);
    const kind = kindOf(key);
    let keys = this.byKind.get(kind);
    if (!keys) this.byKind.set(kind, (keys = new Set()));
    keys.add(key);
    this.notify(key);
  }

  delete(key: ResourceKey): void {
    if (!this.objects.delete(key)) return;
    this.byKind.get(kindOf(key))?.delete(key);
    this.notify(key);
  }

  problem(key: ResourceKey): SourceProblem | undefined {
    return this.problems.get(key);
  }

  setProblem(key: ResourceKey, problem: SourceProblem | undefined): void {
    const before = this.problems.get(key);
    if (before?.message === problem?.message && before?.reason === problem?.reason) return;
    if (problem) this.problems.set(key, problem);
    else this.problems.delete(key);
    this.notify(key);
  }

  onChange(listener: StoreListener): void {
    this.listeners.push(listener);
  }

  private notify(key: ResourceKey): void {
    for (const listener of this.listeners) listener(key);
  }
}

function kindOf(key: ResourceKey): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}
