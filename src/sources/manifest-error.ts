// A manifest's error with its place, and its one-line form: apart from the parser so that the
// CLI can print what a parse worker sent back without loading the YAML and schema libraries.

export interface ManifestError {
  file: string;
  line: number;
  message: string;
}

export function formatManifestError(e: ManifestError): string {
  return `${e.file}:${e.line}: ${e.message}`;
}
