// What the server benches (server-list.ts, server-one-file.ts) share: the SFTP servers they compare,
// each run as a child process speaking SFTP on its stdin/stdout — ours compiled once from a checkout's
// src/ (so node starts in milliseconds, without tsx), and OpenSSH's sftp-server — and a client session
// on such a child. The server's CPU seconds per run come from process-timing.ts (withCpuTime).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SftpClient } from '../../src/client/index.js';
import { joinStreams } from './peers/openssh.js';

export const SFTP = '/usr/bin/sftp';
export const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Let files compiled into `work` import ssh2 etc. from the repository's node_modules. */
export function linkNodeModules(work: string): void {
  execFileSync('ln', ['-sfn', join(REPO, 'node_modules'), join(work, 'node_modules')]);
}

/**
 * Compile the server side of `srcDir` (a checkout's src/) once into `outDir`; returns the command of
 * `serve --stdio --root ROOT`, with `nodeFlags` (e.g. --cpu-prof) given to node.
 */
export function compileServer(srcDir: string, outDir: string, root: string, nodeFlags: string[] = []): string[] {
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  // The root is src/'s parent: the CLI's `bench` command imports ../bench, and a file outside the
  // root would be emitted next to its source, leaving .js files in the checkout that tsx then runs.
  const rootDir = dirname(srcDir);
  const args = [
    tsc,
    join(srcDir, 'cli/main.ts'),
    '--outDir',
    outDir,
    '--rootDir',
    rootDir,
    '--target',
    'ES2022',
    '--module',
    'NodeNext',
    '--moduleResolution',
    'NodeNext',
    '--esModuleInterop',
    '--skipLibCheck',
    '--types',
    'node',
  ];
  try {
    execFileSync(process.execPath, args, { cwd: REPO, stdio: 'pipe' });
  } catch {
    // type errors elsewhere still emit JavaScript; a missing output below is the real failure
  }
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  const main = join(outDir, relative(rootDir, srcDir), 'cli/main.js');
  statSync(main);
  return [process.execPath, ...nodeFlags, main, 'serve', '--stdio', '--root', root];
}

/** The src/ of a git revision, extracted into `work`. */
export function checkoutSrc(ref: string, work: string): string {
  const dir = join(work, `src-${ref.replace(/[^\w.-]/g, '_')}`);
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['archive', ref, 'src'], { cwd: REPO, maxBuffer: 256 << 20 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  // ESM, like the repository (NodeNext decides the output's module kind from package.json)
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  return join(dir, 'src');
}

/**
 * Spawn the server command `cmd` in `cwd`, connect an SftpClient to its stdin/stdout and run `fn`;
 * then end the session and wait for the child to exit (SIGKILL after 5 s).
 */
export async function withClientOnChild<T>(
  cmd: string[],
  cwd: string,
  fn: (client: SftpClient) => Promise<T>,
): Promise<T> {
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const client = await SftpClient.fromStream(joinStreams(child.stdin!, child.stdout!));
  try {
    return await fn(client);
  } finally {
    await client.end();
    child.stdin!.end();
    const k = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(k);
  }
}
