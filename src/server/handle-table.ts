import type { FsDir, FsDirEntry, FsFile } from './fs/file-system.js';
import type { Upload } from './atomic/upload-store.js';
import { StatusCode } from '../protocol/constants.js';
import { StatusError, badHandle } from './status-error.js';

export interface FileHandleEntry {
  kind: 'file';
  path: string;
  file: FsFile;
  readable: boolean;
  writable: boolean;
  /** Set when this open is a server-side atomic upload. */
  upload?: Upload;
  /** Bytes READ requests returned, and WRITE requests wrote, on this handle (see transfer-report.ts). */
  bytesRead?: number;
  bytesWritten?: number;
}
export interface DirHandleEntry {
  kind: 'dir';
  path: string;
  dir: FsDir;
  /** "." and ".." were sent. */
  dotsSent: boolean;
  /** Entries read from the directory that did not fit in the last NAME reply: the next one starts with them. */
  carry?: FsDirEntry[];
  /** READDIR replies sent so far. */
  replies?: number;
}
export type HandleEntry = FileHandleEntry | DirHandleEntry;

/**
 * Handles open across every session of one server: a process-wide cap, so that one client opening
 * handles on many sessions cannot take every descriptor of the process from the others.
 */
export class HandleBudget {
  private open = 0;
  constructor(readonly max: number) {}

  get used(): number {
    return this.open;
  }

  assertRoom(): void {
    if (this.open >= this.max) {
      throw new StatusError(
        StatusCode.FAILURE,
        `EMFILE: too many open files on this server (limit ${this.max} handles in all sessions)`,
      );
    }
  }

  take(): void {
    this.assertRoom();
    this.open++;
  }

  give(n = 1): void {
    this.open = Math.max(0, this.open - n);
  }
}

/** The open handles of one session: opaque 4-byte handles, a bound on how many are open. */
export class HandleTable {
  /** By the handle's 4 bytes read as a number. */
  private readonly entries = new Map<number, HandleEntry>();
  private next = 1;
  constructor(
    readonly max: number,
    private readonly budget: HandleBudget = new HandleBudget(Number.MAX_SAFE_INTEGER),
  ) {}

  /** Fail before opening anything when the session's table, or the server's budget, is full. */
  assertRoom(): void {
    if (this.entries.size >= this.max) {
      throw new StatusError(
        StatusCode.FAILURE,
        `EMFILE: too many open files in this session (limit ${this.max} handles)`,
      );
    }
    this.budget.assertRoom();
  }

  add(entry: HandleEntry): Buffer {
    this.assertRoom();
    this.budget.take();
    let key: number;
    do {
      key = this.next;
      this.next = this.next >= 0xffffffff ? 1 : this.next + 1;
    } while (this.entries.has(key));
    this.entries.set(key, entry);
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(key, 0);
    return b;
  }

  get(handle: Buffer): HandleEntry | undefined {
    return handle.length === 4 ? this.entries.get(handle.readUInt32BE(0)) : undefined;
  }

  /** The entry of an open handle of either kind; EBADF otherwise. */
  any(handle: Buffer): HandleEntry {
    const e = this.get(handle);
    if (!e) throw badHandle();
    return e;
  }

  file(handle: Buffer): FileHandleEntry {
    const e = this.get(handle);
    if (!e || e.kind !== 'file') throw badHandle();
    return e;
  }

  dir(handle: Buffer): DirHandleEntry {
    const e = this.get(handle);
    if (!e || e.kind !== 'dir') throw badHandle();
    return e;
  }

  /** Remove and return an entry (the handle is invalid from now on). */
  take(handle: Buffer): HandleEntry | undefined {
    const e = this.get(handle);
    if (e) {
      this.entries.delete(handle.readUInt32BE(0));
      this.budget.give();
    }
    return e;
  }

  /** Remove and return every entry (session end). */
  drain(): HandleEntry[] {
    const all = [...this.entries.values()];
    this.budget.give(this.entries.size);
    this.entries.clear();
    return all;
  }

  get size(): number {
    return this.entries.size;
  }
}
