/**
 * `sftp-wire serve` (src/cli/main.ts through tsx) as a child process on 127.0.0.1, port chosen by the
 * system, password login. For tests that kill the server: `kill('SIGKILL')` is a real process death,
 * so the client sees what the kernel does to the sockets (a reset or an end), not a simulated one.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN } from './cli.js';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';

export interface ServeChild {
  host: string;
  port: number;
  username: string;
  password: string;
  child: ChildProcess;
  /** Everything the server wrote on stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited (with its signal, if killed). */
  exited: Promise<NodeJS.Signals | number | null>;
  /** SIGKILL it (if still running) and wait until it is gone. */
  stop(): Promise<void>;
}

/**
 * Start `sftp-wire serve --root ROOT` with its host key kept in `home`; resolves once it listens. The
 * key is written here before serve starts (serve would otherwise make its own).
 */
export async function startServeChild(root: string, home: string): Promise<ServeChild> {
  const username = 'tester';
  const password = 'reset-test-password';
  const hostKey = join(home, 'host_key');
  if (!existsSync(hostKey)) writeFileSync(hostKey, generateEd25519KeyPair().private, { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI_MAIN,
      'serve',
      '--root',
      root,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--host-key',
      hostKey,
      '--user',
      username,
      '--password',
      password,
    ],
    { env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sftp-wire serve did not start in 60 s: ${out}${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /sftp:\/\/[^\s/]*:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`sftp-wire serve exited (${how}) before listening: ${out}${err}`));
    });
  });
  assert.ok(port > 0);
  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    child,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
