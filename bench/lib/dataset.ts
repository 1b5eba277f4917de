/**
 * The bench's data: SMALL (many small files in a few directories), LARGE (one big file) and LIST (one
 * directory of many empty entries), generated from a fixed seed into a work folder, with the digests
 * every transfer is checked against.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  mkdirSync,
  openSync,
  writeSync,
  closeSync,
  readdirSync,
  readFileSync,
  statSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Prng, seedFrom } from './prng.js';

export interface SmallSpec {
  files: number;
  dirs: number;
  size: number;
}
export interface SmallFile {
  rel: string;
  sha256: string;
  size: number;
}

const GEN_BLOCK = 4 * 1024 * 1024;

/** Directories a tree of `count` files gets: the full tree's files-per-directory ratio, at least one. */
export function smallDirCount(spec: SmallSpec, count: number): number {
  return Math.max(1, Math.min(count, Math.round((count * spec.dirs) / spec.files)));
}

/** The relative path of file `i` (e.g. d07/f00123) in a tree of `dirs` directories. */
export function smallFileRel(i: number, dirs: number): string {
  return `d${String(i % dirs).padStart(2, '0')}/f${String(i).padStart(5, '0')}`;
}

/**
 * The files of a SMALL tree of `count` files (default: the full tree), sorted as a tree walk finds
 * them. A reduced tree keeps the full tree's files per directory, so per-directory costs weigh alike.
 */
export function smallFileList(spec: SmallSpec, count = spec.files): string[] {
  const n = Math.min(count, spec.files);
  const dirs = smallDirCount(spec, n);
  return Array.from({ length: n }, (_, i) => smallFileRel(i, dirs)).sort();
}

/** Bytes of small file `rel`. */
export function smallFileBytes(seed: number, rel: string, size: number): Buffer {
  return new Prng(seedFrom(seed, rel)).bytes(size);
}

function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/**
 * Write `size` bytes of the seeded stream to `path`; returns its sha256. The first n bytes of a longer
 * file are the same as a file of size n (so sweep files are prefixes of LARGE).
 */
export function writeSeededFile(path: string, seed: number, size: number): string {
  const prng = new Prng(seed);
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafeSlow(Math.min(GEN_BLOCK, Math.max(size, 1)));
  const fd = openSync(path, 'w');
  try {
    let left = size;
    while (left > 0) {
      const n = Math.min(left, block.length);
      const view = block.subarray(0, n);
      prng.fill(view);
      hash.update(view);
      let off = 0;
      while (off < n) off += writeSync(fd, view, off, n - off);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Write the first `count` small files of the spec under `root`; returns them with their digests. */
export function generateSmallTree(root: string, seed: number, spec: SmallSpec, count = spec.files): SmallFile[] {
  const out: SmallFile[] = [];
  const rels = smallFileList(spec, count);
  for (const d of new Set(rels.map((r) => r.slice(0, r.indexOf('/'))))) mkdirSync(join(root, d), { recursive: true });
  for (const rel of rels) {
    const data = smallFileBytes(seed, rel, spec.size);
    writeFileSync(join(root, rel), data);
    out.push({ rel, sha256: sha256(data), size: data.length });
  }
  return out;
}

/**
 * A tree shape: 'wide' is `dirs` directories side by side under the top, 'deep' a chain of `dirs`
 * directories one inside the other; either way `filesPerDir` files of `size` bytes in each directory.
 */
export interface TreeShape {
  kind: 'wide' | 'deep';
  dirs: number;
  filesPerDir: number;
  size: number;
}

/** The bench's two tree shapes beside SMALL: wide and shallow, deep and narrow (small, to be quick). */
export const TREE_SHAPES = {
  wide: { kind: 'wide', dirs: 20, filesPerDir: 5, size: 4096 },
  deep: { kind: 'deep', dirs: 20, filesPerDir: 2, size: 4096 },
} as const satisfies Record<string, TreeShape>;

/** Files in a tree of this shape. */
export function treeShapeFiles(shape: TreeShape): number {
  return shape.dirs * shape.filesPerDir;
}

/**
 * The files of a tree of this shape (the first `count` only, when given), directory by directory:
 * wide w00/f00, w00/f01 ... w19/f09; deep l00/f00, l00/f01, l00/l01/f00 ... A reduced tree is the same
 * shape with fewer directories (a shallower chain), each as full as in the whole tree.
 */
export function treeShapeFileList(shape: TreeShape, count = treeShapeFiles(shape)): string[] {
  const out: string[] = [];
  const n = Math.min(count, treeShapeFiles(shape));
  let chain = '';
  for (let d = 0; out.length < n; d++) {
    const name = `${shape.kind === 'wide' ? 'w' : 'l'}${String(d).padStart(2, '0')}`;
    const dir = shape.kind === 'wide' ? name : chain ? `${chain}/${name}` : name;
    chain = dir;
    for (let f = 0; f < shape.filesPerDir && out.length < n; f++) out.push(`${dir}/f${String(f).padStart(2, '0')}`);
  }
  return out;
}

/** Write a tree of this shape (its first `count` files) under `root`; returns the files with their digests. */
export function generateTreeShape(root: string, seed: number, shape: TreeShape, count?: number): SmallFile[] {
  const out: SmallFile[] = [];
  for (const rel of treeShapeFileList(shape, count)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    const data = smallFileBytes(seed, rel, shape.size);
    writeFileSync(join(root, rel), data);
    out.push({ rel, sha256: sha256(data), size: data.length });
  }
  return out;
}

/** Create `entries` empty files in `dir`; returns their names. */
export function generateListDir(dir: string, entries: number): Set<string> {
  mkdirSync(dir, { recursive: true });
  const names = new Set<string>();
  for (let i = 0; i < entries; i++) {
    const name = `entry-${String(i).padStart(6, '0')}`;
    closeSync(openSync(join(dir, name), 'w'));
    names.add(name);
  }
  return names;
}

/**
 * Create `entries` entries in `dir` with names of varied length (entry-<base 36>-x..x), every
 * thousandth a subdirectory, the rest empty files (the server listing bench's directory).
 */
export function generateMixedListDir(dir: string, entries: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < entries; i++) {
    const name = `entry-${i.toString(36)}-${'x'.repeat(i % 17)}`;
    if (i % 1000 === 1) mkdirSync(join(dir, name));
    else closeSync(openSync(join(dir, name), 'w'));
  }
}

/** sha256 of a file, streamed. */
export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1024 * 1024 })
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Throws unless `path` holds exactly `size` bytes with digest `sha256`. */
export async function verifyFile(path: string, sha256Hex: string, size: number): Promise<void> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`verify: ${path} is missing`);
  }
  if (st.size !== size) throw new Error(`verify: ${path} has ${st.size} bytes, expected ${size}`);
  const got = await hashFile(path);
  if (got !== sha256Hex)
    throw new Error(
      `verify: ${path} differs from the source (sha256 ${got.slice(0, 12)} != ${sha256Hex.slice(0, 12)})`,
    );
}

/**
 * Throws unless `dir` holds exactly the given small files (no more, no fewer) with their bytes.
 * Returns the count of files checked.
 */
export function verifyTree(dir: string, files: readonly SmallFile[]): number {
  const expected = new Map(files.map((f) => [f.rel, f]));
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else found.push(r);
    }
  };
  try {
    walk('');
  } catch (err) {
    throw new Error(`verify: cannot read ${dir}: ${(err as Error).message}`);
  }
  for (const rel of found) {
    const f = expected.get(rel);
    if (!f) throw new Error(`verify: unexpected file ${rel} in ${dir}`);
  }
  if (found.length !== expected.size)
    throw new Error(`verify: ${dir} has ${found.length} files, expected ${expected.size}`);
  // Read and compare each file (small files: synchronous reads are quickest).
  for (const f of files) {
    const data = readFileSync(join(dir, f.rel));
    if (data.length !== f.size || sha256(data) !== f.sha256)
      throw new Error(`verify: ${f.rel} in ${dir} differs from the source`);
  }
  return files.length;
}

/** Throws unless `names` is exactly the LIST directory's entries. */
export function verifyListing(names: Iterable<string>, expected: Set<string>): number {
  let count = 0;
  const seen = new Set<string>();
  for (const n of names) {
    if (n === '.' || n === '..') continue;
    if (!expected.has(n)) throw new Error(`verify: listing has an unexpected entry ${JSON.stringify(n)}`);
    if (seen.has(n)) throw new Error(`verify: listing repeats ${JSON.stringify(n)}`);
    seen.add(n);
    count++;
  }
  if (count !== expected.size) throw new Error(`verify: listing has ${count} entries, expected ${expected.size}`);
  return count;
}

/**
 * An order-independent digest of a listing: the count and two sums of per-name hashes. A worker folds
 * names in as they stream (keeping none, so its memory shows the listing's, not the checker's), and the
 * orchestrator compares with the digest of the names it created. "." and ".." are left out.
 */
export interface ListingDigest {
  count: number;
  h1: number;
  h2: number;
}

export class ListingDigester {
  private count = 0;
  private h1 = 0;
  private h2 = 0;
  add(name: string): void {
    if (name === '.' || name === '..') return;
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b + c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    this.count++;
    this.h1 = (this.h1 + (a >>> 0)) >>> 0;
    this.h2 = (this.h2 + (b >>> 0)) >>> 0;
  }
  digest(): ListingDigest {
    return { count: this.count, h1: this.h1, h2: this.h2 };
  }
}

export function digestNames(names: Iterable<string>): ListingDigest {
  const d = new ListingDigester();
  for (const n of names) d.add(n);
  return d.digest();
}

/** Throws unless the digest matches the expected names; returns the count. */
export function verifyListingDigest(got: ListingDigest, expected: Set<string>): number {
  const want = digestNames(expected);
  if (got.count !== want.count) throw new Error(`verify: listing has ${got.count} entries, expected ${want.count}`);
  if (got.h1 !== want.h1 || got.h2 !== want.h2) throw new Error("verify: listing names differ from the directory's");
  return got.count;
}

/** Remove a destination so the next run starts from nothing. */
export function clearPath(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** Relative paths of every file under a local directory, and its subdirectories (parents first). */
export function walkLocal(root: string): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        dirs.push(r);
        walk(r);
      } else files.push(r);
    }
  };
  walk('');
  return { dirs, files };
}
