// Group commit for the state database: the writes asked for in one turn of the event loop go
// into one transaction, committed at the end of the turn (setImmediate), with one check that the
// database file is still there. A new VM's status and events, and a thousand VMs converging at
// once, then cost one commit per turn instead of one each; the statements themselves still run
// at once, so a statement SQLite refuses fails only its own write. setImmediate, not a timer: a
// 1 ms window made 40 % fewer commits at 1000 VMs but no faster converge, and every awaited
// status write would wait for it.
import type Database from 'better-sqlite3';
import { countStateCommit } from '../../observability/call-counters.js';

/** What the group needs of the database: its connection and statements, and the file check. */
export interface GroupHost {
  readonly db: Database.Database;
  statement(sql: string): Database.Statement;
  /** Opens a fresh database if the file was removed; throws if it cannot. */
  recreateIfRemoved(): boolean;
}

interface Member {
  onCommit: () => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Group {
  members: Member[];
  /** Told when a group they rode along in failed to commit (the event log). */
  lost: ((err: unknown) => void)[];
  writes: number;
}

export class GroupCommit {
  private group: Group | undefined;
  private failed = false;

  constructor(private readonly host: GroupHost) {}

  /**
   * Runs `statements` in this turn's group and resolves once the group has committed, after
   * `onCommit` (so memory follows the disk). Rejects if the statements fail (this write only) or
   * the commit fails (every write of the group).
   */
  write(statements: () => void, onCommit: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        const group = this.openGroup();
        this.run(group, statements);
        group.members.push({ onCommit, resolve, reject });
      } catch (err) {
        reject(err);
      }
    });
  }

  /**
   * Runs `statements` now in this turn's group (opening it); throws if they fail. `lost` is told
   * if the group then fails to commit. For writes nobody waits for (events).
   */
  join(statements: () => void, lost: (err: unknown) => void): void {
    const group = this.openGroup();
    this.run(group, statements);
    group.lost.push(lost);
  }

  /**
   * Commits the open group, then runs `statements` as a commit of their own; throws if they
   * fail. For a writer that must know at once whether writes go through again.
   */
  writeNow(statements: () => void): void {
    this.flush();
    try {
      this.host.recreateIfRemoved();
      statements();
    } catch (err) {
      this.failed = true;
      throw err;
    }
    this.failed = false;
    countStateCommit(1);
  }

  /** True when the last commit failed (a full disk, a read-only database) and none went through since. */
  get lastCommitFailed(): boolean {
    return this.failed;
  }

  /** Commits the open group now (stop, close). */
  flush(): void {
    if (this.group) this.commit(this.group);
  }

  private openGroup(): Group {
    if (this.group) return this.group;
    this.host.recreateIfRemoved();
    this.host.statement('BEGIN IMMEDIATE').run();
    const group: Group = { members: [], lost: [], writes: 0 };
    this.group = group;
    setImmediate(() => this.commit(group));
    return group;
  }

  private run(group: Group, statements: () => void): void {
    try {
      statements();
      group.writes++;
    } catch (err) {
      // Most errors undo only the failed statement; a full disk or an I/O error can undo the
      // whole transaction, and then every write of the group is lost with it.
      if (!this.host.db.inTransaction) this.fail(group, err);
      throw err;
    }
  }

  private commit(group: Group): void {
    if (this.group !== group) return; // flushed already
    this.group = undefined;
    try {
      this.host.statement('COMMIT').run();
    } catch (err) {
      this.rollback();
      this.settleFailed(group, err);
      return;
    }
    this.failed = false;
    countStateCommit(group.writes);
    for (const member of group.members) member.onCommit();
    for (const member of group.members) member.resolve();
  }

  private rollback(): void {
    try {
      if (this.host.db.inTransaction) this.host.statement('ROLLBACK').run();
    } catch {
      // SQLite rolled back already, or the connection is gone: nothing is left to undo.
    }
  }

  private fail(group: Group, err: unknown): void {
    if (this.group === group) this.group = undefined;
    this.settleFailed(group, err);
  }

  private settleFailed(group: Group, err: unknown): void {
    this.failed = true;
    for (const member of group.members) member.reject(err);
    for (const lost of group.lost) lost(err);
    group.members = [];
    group.lost = [];
  }
}
