// DesiredStateWriter for file mode: edits of the watched directory through the ManifestEditor.
import { parseResourceKey, type ResourceKey } from '../api/meta.js';
import type { DesiredStateWriter, FieldChange, NewResource } from '../ports/desired-state-writer.js';
import { DesiredStateError } from '../ports/desired-state-writer.js';
import { ManifestEditError, ManifestEditor } from '../sources/manifest-editor.js';

/** New resources get a file of their own, named so that a person finds it: wimaxclient-default-st1.yaml. */
export function fileNameFor(kind: string, namespace: string, name: string): string {
  return `${kind.toLowerCase()}-${namespace}-${name}.yaml`;
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
