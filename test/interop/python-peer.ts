/**
 * A Python SFTP server of the interop tests (test/interop/*.py), run by Debian's python3 as a child
 * process on loopback: it prints its port on its first stdout line and stops when its stdin closes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { generateEd25519KeyPair, type SshKeyPair } from '../../src/transport/keys.js';

/** Debian's python3, where python3-asyncssh and python3-paramiko install (another on PATH may lack them). */
const PYTHON = '/usr/bin/python3';
const here = path.dirname(fileURLToPath(import.meta.url));

export interface PythonPeer {
  port: number;
  /** The tree it serves. */
  root: string;
  /** A scratch folder beside the root, removed by stop(). */
  dir: string;
  /** The client key its authorized keys file holds. */
  keys: SshKeyPair;
  stop(): Promise<void>;
}

/**
 * Start `script` (in test/interop) as `python3 script ROOT AUTHORIZED_KEYS ...extraArgs`, after
 * checking that `module` imports (a missing package is a failure naming the Debian package, never a
 * skip). It is killed if still running after `limitMs`.
 */
export async function startPythonPeer(
  script: string,
  module: string,
  debianPackage: string,
  extraArgs: string[],
  limitMs: number,
): Promise<PythonPeer> {
  if (spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`${PYTHON} cannot import ${module}: install ${debianPackage} (.ci/run does)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), `sftp-wire-${module}-`));
  const root = path.join(dir, 'root');
  mkdirSync(root);
  const keys = generateEd25519KeyPair();
  writeFileSync(path.join(dir, 'authorized_keys'), keys.public + '\n');
  const server = spawn(PYTHON, [path.join(here, script), root, path.join(dir, 'authorized_keys'), ...extraArgs], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  const killer = setTimeout(() => server.kill('SIGKILL'), limitMs);
  const stop = async (): Promise<void> => {
    clearTimeout(killer);
    server.stdin!.end();
    const t = setTimeout(() => server.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('exit', (code) => reject(new Error(`${script} exited (${code}) before listening`)));
      createInterface({ input: server.stdout! }).once('line', (l) => resolve(Number(l)));
    });
    return { port, root, dir, keys, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
