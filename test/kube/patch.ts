// The two patch formats the API server takes for every resource: JSON merge patch (RFC 7386)
// and JSON patch (RFC 6902). Both work on the object as JSON, like evanphx/json-patch does
// inside the server.
import { isDeepStrictEqual } from 'node:util';
import { badRequest, unprocessable } from './status.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface Operation { op: string; path: string; from?: string; value?: Json }

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw unprocessable(`JSON pointer ${JSON.stringify(pointer)} does not start with "/"`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The container holding the pointer's last segment, and that segment. */
function locate(doc: Json, pointer: string): { parent: Json; key: string } {
  const parts = parsePointer(pointer);
  if (parts.length === 0) throw unprocessable(`cannot operate on the whole document with ${JSON.stringify(pointer)}`);
  let parent: Json = doc;
  for (const part of parts.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(parent) ? parent[Number(part)] : isObject(parent) ? parent[part] : undefined;
    if (next === undefined) throw unprocessable(`doc is missing path: ${JSON.stringify(pointer)}: missing value`);
    parent = next;
  }
  return { parent, key: parts[parts.length - 1]! };
}

function arrayIndex(array: Json[], key: string, forInsert: boolean): number {
  if (forInsert && key === '-') return array.length;
  const i = /^(0|[1-9]\d*)$/.test(key) ? Number(key) : NaN;
  if (Number.isNaN(i) || i > array.length || (!forInsert && i === array.length)) throw unprocessable(`unable to access invalid index: ${key}`);
  return i;
}

function get(doc: Json, pointer: string): Json {
  if (pointer === '') return doc;
  const { parent, key } = locate(doc, pointer);
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, key, false)] : isObject(parent) ? parent[key] : undefined;
  if (value === undefined) throw unprocessable(`doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  return value;
}

function add(doc: Json, pointer: string, value: Json): Json {
  if (pointer === '') return value;
  const { parent, key } = locate(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, value);
  else if (isObject(parent)) parent[key] = value;
  else throw unprocessable(`doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  return doc;
}

function remove(doc: Json, pointer: string): Json {
  const { parent, key } = locate(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false), 1);
  else if (isObject(parent) && key in parent) delete parent[key];
  else throw unprocessable(`unable to remove nonexistent key: ${key}: missing value`);
  return doc;
}

export function jsonPatch(target: Json, patch: Json): Json {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(target);
  for (const raw of patch) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw badRequest(`invalid JSON patch operation ${JSON.stringify(raw)}`);
    const op = raw as unknown as Operation;
    switch (op.op) {
      case 'add': doc = add(doc, op.path, structuredClone(op.value ?? null)); break;
      case 'remove': doc = remove(doc, op.path); break;
      case 'replace': get(doc, op.path); doc = add(remove(doc, op.path), op.path, structuredClone(op.value ?? null)); break;
      case 'move': { const v = get(doc, op.from ?? ''); doc = add(remove(doc, op.from ?? ''), op.path, v); break; }
      case 'copy': doc = add(doc, op.path, structuredClone(get(doc, op.from ?? ''))); break;
      case 'test':
        if (!isDeepStrictEqual(get(doc, op.path), op.value)) throw unprocessable(`testing value ${op.path} failed: test failed`);
        break;
      default: throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

export type { Json };
