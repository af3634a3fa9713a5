// The seed's user-data. cloud-init reads one user-data document, so the spec's hostname and SSH
// keys and the user's own spec.cloudInit.userData are combined, never one dropped for the other:
// - no userData: a #cloud-config with the hostname and keys;
// - a #cloud-config userData: the keys and hostname merged into it (its text and comments kept;
//   keys added to the user's own list; a hostname of its own that differs from the spec's is an
//   error rather than a silent choice);
// - a script or another single-part format cloud-init knows: a MIME multipart message, ours first,
//   the user's part as given (cloud-init's documented way to hand it several parts).
// Pure.
import { createHash } from 'node:crypto';
import { isMap, isSeq, parseDocument, stringify } from 'yaml';
import { YAML_1_1 } from './network-config.js';

export const CLOUD_CONFIG = '#cloud-config';

/** The user's userData cannot be combined with the seed's: the user must change it. */
export class UserDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserDataError';
  }
}

/** cloud-init's part types by a part's first line (its "starts with" rules). */
const PART_TYPES: [prefix: string, type: string][] = [
  ['#cloud-config-archive', 'text/cloud-config-archive'],
  ['#cloud-boothook', 'text/cloud-boothook'],
  ['#part-handler', 'text/part-handler'],
  ['#include-once', 'text/x-include-once-url'],
  ['#include', 'text/x-include-url'],
  ['#jinja2', 'text/jinja2'],
  ['#!', 'text/x-shellscript'],
];

export interface UserDataInput {
  hostname: string;
  sshAuthorizedKeys: string[];
  userData?: string;
}

export function userData(input: UserDataInput): string {
  const own = input.userData;
  if (own === undefined || own.trim() === '') return ourCloudConfig(input);
  const firstLine = own.trimStart().split('\n', 1)[0]!.trimEnd();
  if (firstLine === CLOUD_CONFIG) return mergedCloudConfig(own, input);
  const part = PART_TYPES.find(([prefix]) => firstLine.startsWith(prefix));
  if (!part) {
    throw new UserDataError(`spec.cloudInit.userData must start with ${CLOUD_CONFIG} or another line cloud-init knows (${PART_TYPES.map(([p]) => p).join(', ')}); it starts with ${JSON.stringify(firstLine.slice(0, 40))}`);
  }
  return multipart([['text/cloud-config', ourCloudConfig(input)], [part[1], own]]);
}

function ourCloudConfig(input: UserDataInput): string {
  const config: Record<string, unknown> = { hostname: input.hostname };
  if (input.sshAuthorizedKeys.length) config.ssh_authorized_keys = input.sshAuthorizedKeys;
  return `${CLOUD_CONFIG}\n${stringify(config, YAML_1_1)}`;
}

function mergedCloudConfig(own: string, input: UserDataInput): string {
  const doc = parseDocument(own, YAML_1_1);
  if (doc.errors.length) throw new UserDataError(`spec.cloudInit.userData is not valid YAML: ${doc.errors[0]!.message}`);
  if (doc.contents === null) return ourCloudConfig(input); // a header and comments only
  if (!isMap(doc.contents)) throw new UserDataError('spec.cloudInit.userData: a #cloud-config must be a YAML mapping');
  const theirs = doc.get('hostname');
  if (theirs !== undefined && theirs !== input.hostname) {
    throw new UserDataError(`spec.cloudInit.userData sets hostname ${JSON.stringify(theirs)} and the VM's hostname is ${JSON.stringify(input.hostname)}: set it in one place (spec.cloudInit.hostname)`);
  }
  if (theirs === undefined) doc.set('hostname', input.hostname);
  if (input.sshAuthorizedKeys.length) {
    const keys = doc.get('ssh_authorized_keys');
    if (keys !== undefined && !isSeq(keys)) throw new UserDataError('spec.cloudInit.userData: ssh_authorized_keys must be a list');
    const had = isSeq(keys) ? keys.toJSON() as unknown[] : [];
    const added = input.sshAuthorizedKeys.filter((k) => !had.includes(k));
    if (added.length) doc.set('ssh_authorized_keys', doc.createNode([...had, ...added]));
  }
  // The header is a comment the document keeps; a user whose first line was the header gets it back as is.
  const text = doc.toString(YAML_1_1);
  return text.startsWith(CLOUD_CONFIG) ? text : `${CLOUD_CONFIG}\n${text}`;
}

/** A MIME multipart/mixed message; its boundary derives from the parts, so it is stable and cannot occur in them. */
function multipart(parts: [type: string, body: string][]): string {
  const boundary = `==wimaxvm-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24)}==`;
  const lines = ['Content-Type: multipart/mixed; boundary="' + boundary + '"', 'MIME-Version: 1.0', ''];
  parts.forEach(([type, body], i) => {
    lines.push(`--${boundary}`, `Content-Type: ${type}; charset="utf-8"`, 'MIME-Version: 1.0', 'Content-Transfer-Encoding: 8bit',
      `Content-Disposition: attachment; filename="part-${i + 1}"`, '', body.endsWith('\n') ? body.slice(0, -1) : body);
  });
  lines.push(`--${boundary}--`, '');
  return lines.join('\n');
}
