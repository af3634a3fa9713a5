// Linux inotify through wimaxvm's own small addon (native/inotify/, built with the libvirt
// binding by `npm install`): Node's fs.watch does not report IN_CLOSE_WRITE or IN_MOVED_TO as
// such, and those say a file is complete (written and closed, or renamed into place).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

export interface InotifyEvent {
  /** The watch it belongs to; -1 for IN_Q_OVERFLOW. */
  wd: number;
  mask: number;
  cookie: number;
  /** The entry inside the watched directory; '' for an event about the directory itself. */
  name: string;
}

export interface Inotify {
  /** Watches a directory; returns its watch descriptor. Throws an Error with `code` (ENOENT, ENOSPC...). */
  add(path: string, mask: number): number;
  remove(wd: number): void;
  close(): void;
}

interface InotifyAddon {
  Inotify: new (onEvents: (events: InotifyEvent[]) => void) => Inotify;
  masks: Record<'IN_MODIFY' | 'IN_ATTRIB' | 'IN_CLOSE_WRITE' | 'IN_MOVED_FROM' | 'IN_MOVED_TO' | 'IN_CREATE' | 'IN_DELETE'
    | 'IN_DELETE_SELF' | 'IN_MOVE_SELF' | 'IN_UNMOUNT' | 'IN_Q_OVERFLOW' | 'IN_IGNORED' | 'IN_ISDIR' | 'IN_ONLYDIR', number>;
}

const addon = createRequire(import.meta.url)(join(PACKAGE_ROOT, 'build', 'Release', 'wimaxvm_inotify.node')) as InotifyAddon;

export const IN = addon.masks;

/** A new inotify instance; `onEvents` gets each read's events together, on the event loop. */
export function openInotify(onEvents: (events: InotifyEvent[]) => void): Inotify {
  return new addon.Inotify(onEvents);
}
