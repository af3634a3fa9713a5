// DesiredStateWriter for file mode: edits of the watched directory through the ManifestEditor.
import { createHash } from 'node:crypto';
import { parseResourceKey, type ResourceKey } from '../api/meta.js';
import type { DesiredStateWriter, FieldChange, NewResource } from '../ports/desired-state-writer.js';
import { DesiredStateError } from '../ports/desired-state-writer.js';
import { ManifestEditError, ManifestEditor } from '../sources/manifest-editor.js';

/** Longest file name written; file systems hold 255 bytes, and the name must leave room for editors' temporary names beside it. */
const MAX_FILE_NAME = 200;

/**
 * New resources get a file of their own, named so that a person finds it:
 * wimaxclient-default-st1.yaml. A name too long for a file (Kubernetes allows 253 characters,
 * and a namespace of 63) is cut, with a hash of the whole, so that two long names never share a file.
 */
export function fileNameFor(kind: string, namespace: string, name: string): string {
  const whole = `${kind.toLowerCase()}-${namespace}-${name}`;
  if (whole.length + '.yaml'.length <= MAX_FILE_NAME) return `${whole}.yaml`;
  const hash = createHash('sha256').update(whole).digest('hex').slice(0, 12);
  return `${whole.slice(0, MAX_FILE_NAME - hash.length - '-.yaml'.length)}-${hash}.yaml`;
}

export class FileDesiredStateWriter implements DesiredStateWriter {
  private readonly editor: ManifestEditor;

  /** `hint` tells where a key was last seen declared ("file:line"), to spare a scan of every file. */
  constructor(dir: string, private readonly hint: (key: ResourceKey) => string | undefined = () => undefined) {
    this.editor = new ManifestEditor(dir);
  }

  async create(object: NewResource): Promise<void> {
    const namespace = object.metadata.namespace ?? 'default';
    await this.wrap(() => this.editor.create(object as unknown as Record<string, unknown>, fileNameFor(object.kind, namespace, object.metadata.name)));
  }

  async patch(key: ResourceKey, changes: FieldChange[]): Promise<void> {
    await this.wrap(() => this.editor.update(key, changes, this.hint(key)));
  }

  async remove(key: ResourceKey): Promise<void> {
    parseResourceKey(key);
    await this.wrap(() => this.editor.remove(key, this.hint(key)));
  }

  private async wrap(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof ManifestEditError) throw new DesiredStateError(err.message, err.code);
      throw err;
    }
  }
}
