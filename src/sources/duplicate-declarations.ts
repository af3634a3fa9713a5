// The one rule for a resource declared in more than one file, shared by the directory source
// (which then applies neither declaration) and `wimaxvm validate` (which reports it). Pure.
import type { SourceProblem } from '../core/desired-store.js';

/** Places ("file:line") of each key declared more than once; keys declared once are left out. */
export function duplicateDeclarations<K>(declarations: Iterable<{ key: K; place: string }>): Map<K, string[]> {
  const byKey = new Map<K, string[]>();
  for (const { key, place } of declarations) byKey.set(key, [...(byKey.get(key) ?? []), place]);
  for (const [key, places] of byKey) if (places.length < 2) byKey.delete(key);
  return byKey;
}

/** What is wrong with a resource declared at `places` (two or more "file:line"). */
export function duplicateDeclarationProblem(places: string[]): SourceProblem {
  return { reason: 'DuplicateDeclaration', message: `declared in ${[...places].sort().join(' and ')}; neither declaration is applied until only one remains` };
}
