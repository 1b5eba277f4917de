import type {
  FileStats,
  FileSystem,
  FsDir,
  FsDirEntry,
  FsFile,
  FsStatVfs,
  OpenOptions,
  SetStats,
} from './file-system.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './file-system.js';
import { fsError } from './fs-error.js';
import { joinVirtual, normalizeVirtual } from './vpath.js';

interface NodeBase {
  mode: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
  nlink: number;
  /** Identity of the node (FileStats.ino). */
  ino: number;
}
interface MemFile extends NodeBase {
  kind: 'file';
  data: Buffer;
  size: number;
}
interface MemDirNode extends NodeBase {
  kind: 'dir';
  children: Map<string, MemNode>;
}
interface MemLink extends NodeBase {
  kind: 'link';
  target: string;
}
type MemNode = MemFile | MemDirNode | MemLink;

interface Found {
  dir: MemDirNode;
  /** Virtual path of `dir` (symlink-free). */
  dirPath: string;
  /** "" for the root. */
  name: string;
  node: MemNode | undefined;
}

const MAX_HOPS = 40;
/** Applied to the modes of new files and directories, like a process umask. */
const UMASK = 0o022;
const now = (): number => Math.floor(Date.now() / 1000);

export interface MemoryFsOptions {
  uid?: number;
  gid?: number;
  /** Names shown in longnames and by users-groups-by-id. */
  users?: Record<number, string>;
  groups?: Record<number, string>;
  /** Reported by statvfs as the capacity, in bytes (default 1 GiB); also the largest file accepted (ENOSPC beyond). */
  capacity?: number;
}

function statsOf(n: MemNode): FileStats {
  return {
    mode: n.mode,
    size: n.kind === 'file' ? n.size : n.kind === 'link' ? Buffer.byteLength(n.target) : 4096,
    uid: n.uid,
    gid: n.gid,
    atime: n.atime,
    mtime: n.mtime,
    nlink: n.nlink,
    dev: 0,
    ino: n.ino,
  };
}

function truncateFile(f: MemFile, size: number, maxSize: number): void {
  if (size > f.size) ensureRoom(f, size, maxSize).fill(0, f.size, size);
  f.size = size;
  f.mtime = now();
}

/** Grow a file's buffer for `size` bytes; a size beyond the capacity is ENOSPC, never an allocation. */
function ensureRoom(f: MemFile, size: number, maxSize: number): Buffer {
  if (size > maxSize) throw fsError('ENOSPC', `a file of ${size} bytes exceeds the capacity of ${maxSize}`);
  if (size > f.data.length) {
    let cap = Math.max(f.data.length * 2, 4096);
    while (cap < size) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    f.data.copy(next, 0, 0, f.size);
    f.data = next;
  }
  return f.data;
}

function applyStats(n: MemNode, a: SetStats, maxSize: number): void {
  if (a.size !== undefined) {
    if (n.kind === 'dir') throw fsError('EISDIR');
    if (n.kind !== 'file') throw fsError('EINVAL');
    truncateFile(n, a.size, maxSize);
  }
  if (a.mode !== undefined) {
    if (n.kind === 'link') throw fsError('EOPNOTSUPP', 'cannot change the mode of a symbolic link');
    n.mode = (n.mode & S_IFMT) | (a.mode & 0o7777);
  }
  if (a.uid !== undefined && a.gid !== undefined) {
    n.uid = a.uid;
    n.gid = a.gid;
  }
  if (a.atime !== undefined && a.mtime !== undefined) {
    n.atime = a.atime;
    n.mtime = a.mtime;
  }
}

class MemOpenFile implements FsFile {
  private closed = false;
  constructor(
    private readonly f: MemFile,
    private readonly opts: OpenOptions,
    private readonly maxSize: number,
  ) {}
  private live(): MemFile {
    if (this.closed) throw fsError('EBADF');
    return this.f;
  }
  async read(position: number, length: number): Promise<Buffer> {
    const f = this.live();
    if (!this.opts.read) throw fsError('EBADF', 'handle not open for reading');
    if (position >= f.size) return Buffer.alloc(0);
    const end = Math.min(f.size, position + length);
    return Buffer.from(f.data.subarray(position, end));
  }
  async write(position: number, data: Buffer): Promise<void> {
    const f = this.live();
    if (!this.opts.write) throw fsError('EBADF', 'handle not open for writing');
    if (data.length === 0) return; // like pwrite(2): nothing written, the size stays
    const at = this.opts.append ? f.size : position;
    const end = at + data.length;
    const buf = ensureRoom(f, end, this.maxSize);
    if (at > f.size) buf.fill(0, f.size, at);
    data.copy(buf, at);
    if (end > f.size) f.size = end;
    f.mtime = now();
  }
  async stat(): Promise<FileStats> {
    return statsOf(this.live());
  }
  async setstat(attrs: SetStats): Promise<void> {
    applyStats(this.live(), attrs, this.maxSize);
  }
  async sync(): Promise<void> {
    this.live();
  }
  async close(): Promise<void> {
    this.live();
    this.closed = true;
  }
}

class MemDirHandle implements FsDir {
  private pos = 0;
  constructor(private readonly entries: [string, MemNode][]) {}
  async read(max: number): Promise<FsDirEntry[] | null> {
    if (this.pos >= this.entries.length) return null;
    const slice = this.entries.slice(this.pos, this.pos + max);
    this.pos += slice.length;
    return slice.map(([name, node]) => ({ name, stats: statsOf(node) }));
  }
  async close(): Promise<void> {}
}

/** A file system held in memory: for tests, and as a model of what a FileSystem must do. */
export class MemoryFs implements FileSystem {
  private readonly root: MemDirNode;
  private readonly uid: number;
  private readonly gid: number;
  constructor(private readonly options: MemoryFsOptions = {}) {
    this.uid = options.uid ?? process.getuid?.() ?? 0;
    this.gid = options.gid ?? process.getgid?.() ?? 0;
    this.root = this.newDir(0o755);
  }

  /** The capacity (statvfs), also the largest file: a WRITE or SETSTAT beyond it is ENOSPC, not an allocation. */
  private get capacity(): number {
    return this.options.capacity ?? 1 << 30;
  }

  private nextIno = 1;
  private base(mode: number): NodeBase {
    const t = now();
    return { mode, uid: this.uid, gid: this.gid, atime: t, mtime: t, nlink: 1, ino: this.nextIno++ };
  }
  private newDir(perm: number): MemDirNode {
    return { kind: 'dir', children: new Map(), ...this.base(S_IFDIR | (perm & 0o7777)), nlink: 2 };
  }

  /** Walk to the last component of `p`, following symlinks on the way (and at the end when asked). */
  private find(p: string, followFinal: boolean, hops = 0): Found {
    const parts = normalizeVirtual(p)
      .split('/')
      .filter((s) => s.length > 0);
    let dir = this.root;
    let dirPath = '/';
    if (parts.length === 0) return { dir, dirPath, name: '', node: this.root };
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      const last = i === parts.length - 1;
      const node = dir.children.get(name);
      if (node?.kind === 'link' && (!last || followFinal)) {
        if (hops >= MAX_HOPS) throw fsError('ELOOP');
        const base = node.target.startsWith('/') ? node.target : joinVirtual(dirPath, node.target);
        const rest = parts.slice(i + 1).join('/');
        return this.find(rest ? `${base}/${rest}` : base, followFinal, hops + 1);
      }
      if (last) return { dir, dirPath, name, node };
      if (!node) throw fsError('ENOENT');
      if (node.kind !== 'dir') throw fsError('ENOTDIR');
      dir = node;
      dirPath = joinVirtual(dirPath, name);
    }
    throw fsError('ENOENT');
  }

  private existing(p: string, follow: boolean): MemNode {
    const f = this.find(p, follow);
    if (!f.node) throw fsError('ENOENT');
    return f.node;
  }

  private touchDir(d: MemDirNode): void {
    d.mtime = now();
  }

  async open(p: string, opts: OpenOptions): Promise<FsFile> {
    const f = this.find(p, !(opts.create && opts.exclusive));
    let node = f.node;
    if (node && opts.create && opts.exclusive) throw fsError('EEXIST');
    if (!node) {
      if (!opts.create) throw fsError('ENOENT');
      if (f.name === '') throw fsError('EISDIR');
      const file: MemFile = {
        kind: 'file',
        data: Buffer.alloc(0),
        size: 0,
        ...this.base(S_IFREG | ((opts.mode ?? 0o666) & 0o7777 & ~UMASK)),
      };
      f.dir.children.set(f.name, file);
      this.touchDir(f.dir);
      node = file;
    }
    if (node.kind === 'dir') {
      if (opts.write) throw fsError('EISDIR');
      throw fsError('EISDIR');
    }
    if (node.kind !== 'file') throw fsError('ELOOP');
    if (opts.truncate && opts.write) truncateFile(node, 0, this.capacity);
    return new MemOpenFile(node, { ...opts, read: opts.read || !opts.write }, this.capacity);
  }

  async opendir(p: string): Promise<FsDir> {
    const node = this.existing(p, true);
    if (node.kind !== 'dir') throw fsError('ENOTDIR');
    return new MemDirHandle([...node.children.entries()]);
  }

  async stat(p: string): Promise<FileStats> {
    return statsOf(this.existing(p, true));
  }
  async lstat(p: string): Promise<FileStats> {
    return statsOf(this.existing(p, false));
  }
  async setstat(p: string, attrs: SetStats, opts: { follow: boolean }): Promise<void> {
    applyStats(this.existing(p, opts.follow), attrs, this.capacity);
  }

  async mkdir(p: string, mode = 0o777): Promise<void> {
    const f = this.find(p, false);
    if (f.node) throw fsError('EEXIST');
    f.dir.children.set(f.name, this.newDir(mode & ~UMASK));
    f.dir.nlink++;
    this.touchDir(f.dir);
  }

  async rmdir(p: string): Promise<void> {
    const f = this.find(p, false);
    if (f.name === '') throw fsError('EBUSY');
    if (!f.node) throw fsError('ENOENT');
    if (f.node.kind !== 'dir') throw fsError('ENOTDIR');
    if (f.node.children.size > 0) throw fsError('ENOTEMPTY');
    f.dir.children.delete(f.name);
    f.dir.nlink--;
    this.touchDir(f.dir);
  }

  async remove(p: string): Promise<void> {
    const f = this.find(p, false);
    if (!f.node) throw fsError('ENOENT');
    if (f.node.kind === 'dir') throw fsError('EISDIR');
    f.dir.children.delete(f.name);
    f.node.nlink--;
    this.touchDir(f.dir);
  }

  async rename(oldPath: string, newPath: string, opts: { overwrite: boolean }): Promise<void> {
    const from = this.find(oldPath, false);
    const to = this.find(newPath, false);
    if (!from.node) throw fsError('ENOENT');
    if (from.name === '' || to.name === '') throw fsError('EBUSY');
    if (from.node === to.node) return;
    if (from.node.kind === 'dir') {
      // a directory cannot move below itself
      const src = joinVirtual(from.dirPath, from.name);
      const dst = joinVirtual(to.dirPath, to.name);
      if (dst.startsWith(src + '/')) throw fsError('EINVAL');
    }
    if (to.node) {
      if (!opts.overwrite) throw fsError('EEXIST');
      if (from.node.kind === 'dir') {
        if (to.node.kind !== 'dir') throw fsError('ENOTDIR');
        if (to.node.children.size > 0) throw fsError('ENOTEMPTY');
        to.dir.nlink--;
      } else if (to.node.kind === 'dir') {
        throw fsError('EISDIR');
      }
      to.node.nlink--;
    }
    from.dir.children.delete(from.name);
    to.dir.children.set(to.name, from.node);
    if (from.node.kind === 'dir') {
      from.dir.nlink--;
      to.dir.nlink++;
    }
    this.touchDir(from.dir);
    this.touchDir(to.dir);
  }

  async link(existingPath: string, newPath: string): Promise<void> {
    const node = this.existing(existingPath, false);
    if (node.kind === 'dir') throw fsError('EPERM', 'cannot hard-link a directory');
    const to = this.find(newPath, false);
    if (to.node) throw fsError('EEXIST');
    to.dir.children.set(to.name, node);
    node.nlink++;
    this.touchDir(to.dir);
  }

  async symlink(target: string, linkPath: string): Promise<void> {
    if (target.includes('\0')) throw fsError('EINVAL');
    const f = this.find(linkPath, false);
    if (f.node) throw fsError('EEXIST');
    f.dir.children.set(f.name, { kind: 'link', target, ...this.base(S_IFLNK | 0o777) });
    this.touchDir(f.dir);
  }

  async readlink(p: string): Promise<string> {
    const node = this.existing(p, false);
    if (node.kind !== 'link') throw fsError('EINVAL');
    return node.target;
  }

  async realpath(p: string): Promise<string> {
    const f = this.find(p, true);
    return f.name === '' ? '/' : joinVirtual(f.dirPath, f.name);
  }

  async statvfs(p: string): Promise<FsStatVfs> {
    this.existing(p, true);
    const capacity = this.options.capacity ?? 1 << 30;
    let used = 0;
    let files = 0;
    const seen = new Set<MemNode>();
    const walk = (d: MemDirNode): void => {
      for (const n of d.children.values()) {
        if (seen.has(n)) continue;
        seen.add(n);
        files++;
        if (n.kind === 'file') used += n.size;
        else if (n.kind === 'dir') walk(n);
      }
    };
    walk(this.root);
    const bsize = 4096;
    const blocks = Math.floor(capacity / bsize);
    const free = Math.max(0, blocks - Math.ceil(used / bsize));
    return {
      bsize,
      frsize: bsize,
      blocks,
      bfree: free,
      bavail: free,
      files: 1 << 20,
      ffree: (1 << 20) - files,
      favail: (1 << 20) - files,
      fsid: 0,
      namemax: 255,
      readOnly: false,
    };
  }

  userName(uid: number): string | undefined {
    return this.options.users?.[uid];
  }
  groupName(gid: number): string | undefined {
    return this.options.groups?.[gid];
  }
}
