/**
 * `sftp-wire put -r` / `get -r`: a whole directory tree through putTree/getTree, with a files-and-bytes
 * progress line, a summary, and every failed entry listed on stderr (exit code 1 when any failed).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, posix, resolve } from 'node:path';
import { TreeError, type SftpClient, type TreeEntryError, type TreeOptions, type TreeResult } from '../index.js';
import { isDirectory } from '../protocol/index.js';
import { plural, ProgressDisplay, rateSummary, type ProgressStream } from './progress.js';

export interface TreeCommand {
  verb: 'put' | 'get';
  /** put: the local directory; get: the remote one. */
  src: string;
  /** put: the remote path; get: the local one. */
  dst: string;
  options: Omit<TreeOptions, 'onProgress'>;
  quiet?: boolean;
  /** Default process.stderr. */
  stream?: ProgressStream;
}

/** The name a copied tree gets inside an existing directory: the source's last component, unless it is '.', '..' or '/'. */
function treeName(p: string, local: boolean): string | undefined {
  const name = local ? basename(resolve(p)) : posix.basename(p.replace(/\/+$/, ''));
  return name === '' || name === '.' || name === '..' ? undefined : name;
}

/**
 * Where the tree goes, as `cp -r` does it: a destination that ends in '/' or is an existing directory
 * receives the source under its own name; otherwise the destination is the copy (created).
 */
export async function treeDestination(
  client: SftpClient,
  verb: 'put' | 'get',
  src: string,
  dst: string,
): Promise<string> {
  if (verb === 'put') {
    const into = dst.endsWith('/') || (await client.stat(dst).then(isDirectory, () => false));
    const name = into ? treeName(src, true) : undefined;
    return name === undefined ? dst : `${dst.replace(/\/+$/, '')}/${name}`;
  }
  const into = dst.endsWith('/') || (existsSync(dst) && statSync(dst).isDirectory());
  const name = into ? treeName(src, false) : undefined;
  return name === undefined ? dst : join(dst, name);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function listFailures(stream: ProgressStream, verb: string, errors: TreeEntryError[]): void {
  stream.write(`sftp-wire ${verb}: ${plural(errors.length, 'entry', 'entries')} failed:\n`);
  for (const e of errors) stream.write(`  ${e.path === '' ? '.' : e.path}: ${describe(e.error)}\n`);
}

/** The summary line of a tree transfer: "put -r a -> b: 1 file, 2 directories, 1 symlink, ...". */
export function treeSummary(verb: string, from: string, to: string, r: TreeResult, seconds: number): string {
  const extra = [
    r.symlinks ? plural(r.symlinks, 'symlink') : '',
    r.skipped ? `${r.skipped} skipped` : '',
    r.errors.length ? `${r.errors.length} failed` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${verb} -r ${from} -> ${to}: ${plural(r.files, 'file')}, ${plural(r.directories, 'directory', 'directories')}${extra ? `, ${extra}` : ''}, ${rateSummary(r.bytes, seconds)}`;
}

/** Run one tree transfer on a connected client; returns the exit code (0, or 1 when anything failed). */
export async function runTree(client: SftpClient, cmd: TreeCommand): Promise<number> {
  const stream = cmd.stream ?? process.stderr;
  let to: string;
  try {
    to = await treeDestination(client, cmd.verb, cmd.src, cmd.dst);
  } catch (err) {
    stream.write(`sftp-wire ${cmd.verb}: ${describe(err)}\n`);
    return 1;
  }
  const progress = new ProgressDisplay({ label: cmd.src, quiet: cmd.quiet, stream });
  const opts: TreeOptions = {
    ...cmd.options,
    onProgress: (p) =>
      progress.update({ bytes: p.bytes, total: p.totalBytes, files: p.files, totalFiles: p.totalFiles }),
  };
  let result: TreeResult;
  try {
    result = cmd.verb === 'put' ? await client.putTree(cmd.src, to, opts) : await client.getTree(cmd.src, to, opts);
  } catch (err) {
    progress.finish();
    if (err instanceof TreeError) {
      if (err.errors.length) listFailures(stream, cmd.verb, err.errors);
      stream.write(
        `sftp-wire ${cmd.verb}: ${err.message} (${plural(err.result.files, 'file')}, ${plural(err.result.bytes, 'byte')} done)\n`,
      );
    } else stream.write(`sftp-wire ${cmd.verb}: ${describe(err)}\n`);
    return 1;
  }
  progress.finish(treeSummary(cmd.verb, cmd.src, to, result, progress.elapsed));
  if (result.errors.length) {
    listFailures(stream, cmd.verb, result.errors);
    return 1;
  }
  return 0;
}
