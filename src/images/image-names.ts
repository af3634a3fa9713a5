// What an image may be called. An image name is a path inside the image directory: never a host
// path, never a way out (`..`), never hidden (a leading dot: import's temporary files are
// hidden, so no image ever shares a name with a half-copied one).

/** The CRD's pattern for spec.disks[].image: sub-folders allowed, no segment starting with a dot. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const MAX_LENGTH = 255;

/** Why `name` cannot name an image of the image directory, or undefined when it can. */
export function imageNameProblem(name: string, opts: { folders?: boolean } = {}): string | undefined {
  const quoted = JSON.stringify(name);
  if (name === '') return 'an image name cannot be empty';
  if (name.length > MAX_LENGTH) return `image name ${quoted} is longer than ${MAX_LENGTH} characters`;
  if (name.startsWith('/')) return `image name ${quoted} is an absolute path: name a file inside the image directory`;
  if (name.split('/').includes('..') || name.includes('..')) return `image name ${quoted} contains "..": it must stay inside the image directory`;
  const segments = name.split('/');
  if (segments.length > 1 && !opts.folders) return `image name ${quoted} contains "/": give a plain file name`;
  for (const segment of segments) {
    if (segment.startsWith('.')) return `image name ${quoted} starts a name with a dot: hidden files are not images`;
    if (!SEGMENT.test(segment)) return `image name ${quoted} may contain only letters, digits, ".", "_" and "-"${opts.folders ? ' (and "/" between folders)' : ''}, and start with a letter, digit or "_"`;
  }
  return undefined;
}

/** The format a name's extension promises, if it promises one: x.qcow2 must be qcow2. */
export function formatPromisedBy(name: string): 'qcow2' | 'raw' | undefined {
  if (/\.qcow2$/i.test(name)) return 'qcow2';
  if (/\.raw$/i.test(name)) return 'raw';
  return undefined;
}
