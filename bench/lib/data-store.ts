/**
 * The bench's source data in a work folder, generated on first use and kept for the run: LARGE files
 * of any size (each a prefix of the same seeded stream), SMALL trees of any count (each the first
 * files of the full tree), LIST directories of any size.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateListDir,
  generateSmallTree,
  generateTreeShape,
  TREE_SHAPES,
  treeShapeFiles,
  writeSeededFile,
  type SmallFile,
  type SmallSpec,
} from './dataset.js';

export interface LargeSource {
  rel: string;
  size: number;
  sha256: string;
}
export interface SmallSource {
  rel: string;
  files: SmallFile[];
  bytes: number;
}
export interface ListSource {
  rel: string;
  names: Set<string>;
}

export class DataStore {
  private larges = new Map<number, LargeSource>();
  private smalls = new Map<number, SmallSource>();
  private lists = new Map<number, ListSource>();
  private shapes = new Map<string, SmallSource>();

  constructor(
    readonly workDir: string,
    readonly seed: number,
    readonly small: SmallSpec,
  ) {
    mkdirSync(join(workDir, 'src'), { recursive: true });
  }

  /** Absolute local path of a work-folder-relative path. */
  local(rel: string): string {
    return join(this.workDir, rel);
  }

  large(size: number): LargeSource {
    let s = this.larges.get(size);
    if (!s) {
      const rel = `src/large-${size}.bin`;
      s = { rel, size, sha256: writeSeededFile(this.local(rel), this.seed, size) };
      this.larges.set(size, s);
    }
    return s;
  }

  smallTree(count: number): SmallSource {
    const n = Math.min(count, this.small.files);
    let s = this.smalls.get(n);
    if (!s) {
      const rel = `src/small-${n}`;
      const files = generateSmallTree(this.local(rel), this.seed, this.small, n);
      s = { rel, files, bytes: files.reduce((a, f) => a + f.size, 0) };
      this.smalls.set(n, s);
    }
    return s;
  }

  /** The first `count` files of a tree shape (WIDE, DEEP). */
  shapeTree(shape: keyof typeof TREE_SHAPES, count: number): SmallSource {
    const n = Math.min(count, treeShapeFiles(TREE_SHAPES[shape]));
    const key = `${shape}-${n}`;
    let s = this.shapes.get(key);
    if (!s) {
      const rel = `src/${key}`;
      const files = generateTreeShape(this.local(rel), this.seed, TREE_SHAPES[shape], n);
      s = { rel, files, bytes: files.reduce((a, f) => a + f.size, 0) };
      this.shapes.set(key, s);
    }
    return s;
  }

  listDir(entries: number): ListSource {
    let s = this.lists.get(entries);
    if (!s) {
      const rel = `src/list-${entries}`;
      if (existsSync(this.local(rel))) throw new Error(`${rel} exists already`);
      s = { rel, names: generateListDir(this.local(rel), entries) };
      this.lists.set(entries, s);
    }
    return s;
  }
}
