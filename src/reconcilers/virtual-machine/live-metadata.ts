// The balloon target wimaxvm set on a running guest, kept in the domain's live metadata (never
// the persistent definition: a restarted guest boots with its defined <currentMemory>). Pure.
/**
 * The namespace of the balloon target wimaxvm set on a running guest (live metadata only). The
 * live XML's <currentMemory> is what the balloon has reached so far (all of <memory> until the
 * guest's driver inflates it, and for ever in a guest without one), not what was asked for.
 */
export const LIVE_METADATA_NS = 'https://wimaxvm.io/xmlns/live/v1alpha1';
export const LIVE_METADATA_KEY = 'wimaxvm-live';

/** The live metadata element that records a balloon target, for setMetadata. */
export function balloonTargetXml(kib: number): string {
  return `<balloon memory="${Math.round(kib)}"/>`;
}

/** An element of a domain's <metadata>: its qualified name and attributes (namespace declarations included). */
export interface MetadataElement {
  name: string;
  attributes: Record<string, string>;
}

/** Whether the element's own prefix (or the default namespace) is bound, on the element, to `namespace`. */
export function inNamespace({ name, attributes }: MetadataElement, namespace: string): boolean {
  const colon = name.indexOf(':');
  return attributes[colon < 0 ? 'xmlns' : `xmlns:${name.slice(0, colon)}`] === namespace;
}

/** The balloon target wimaxvm recorded in the live metadata (see LIVE_METADATA_NS), if any. */
export function readBalloonTarget(metadata: readonly MetadataElement[]): number | undefined {
  for (const element of metadata) {
    if (!inNamespace(element, LIVE_METADATA_NS)) continue;
    const kib = Number(element.attributes.memory);
    if (Number.isInteger(kib) && kib > 0) return kib;
  }
  return undefined;
}
