/**
 * `sftp-wire serve` as a real child process on loopback, for the CLI's end-to-end tests: started with
 * a password user on a free port, its printed URL parsed, its stdout and stderr collected.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN } from '../support/cli.js';

export interface ServeChild {
  child: ChildProcess;
  host: string;
  port: number;
  /** sftp://user@host:port */
  base: string;
  hostKeyFile: string;
  stdout(): string;
  stderr(): string;
  /** Wait until stderr matches (or fail after `ms`). */
  waitStderr(re: RegExp, ms?: number): Promise<void>;
  /** Wait until stdout matches (or fail after `ms`). */
  waitStdout(re: RegExp, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A fresh temporary folder with `home` and `root` inside. */
export function scratch(prefix: string): { dir: string; home: string; root: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'home'));
  mkdirSync(join(dir, 'root'));
  return { dir, home: join(dir, 'home'), root: join(dir, 'root') };
}

async function until(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < deadline, what());
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startServe(opts: {
  root: string;
  dir: string;
  user: string;
  password: string;
  extra?: string[];
}): Promise<ServeChild> {
  const hostKeyFile = join(opts.dir, 'host_key');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI_MAIN,
      'serve',
      '--root',
      opts.root,
      '--port',
      '0',
      '--host-key',
      hostKeyFile,
      '--user',
      opts.user,
      '--password',
      opts.password,
      ...(opts.extra ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: join(opts.dir, 'home') } },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until(
    () => /on sftp:\/\/.*\n/.test(out) || child.exitCode !== null,
    30_000,
    () => `serve did not start: ${out} ${err}`,
  );
  const m = /on sftp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\//.exec(out);
  assert.ok(m, `serve printed no URL: ${out} ${err}`);
  const host = m[1]!;
  const port = Number(m[2]);
  return {
    child,
    host,
    port,
    base: `sftp://${opts.user}@${host}:${port}`,
    hostKeyFile,
    stdout: () => out,
    stderr: () => err,
    waitStderr: (re, ms = 10_000) =>
      until(
        () => re.test(err),
        ms,
        () => `stderr never matched ${re}: ${err}`,
      ),
    waitStdout: (re, ms = 10_000) =>
      until(
        () => re.test(out),
        ms,
        () => `stdout never matched ${re}: ${out}`,
      ),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI to its end with HOME=home, no ssh-agent, and `env` added (no TTY: stdin is /dev/null). */
export function cli(home: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', CLI_MAIN, ...args],
      { env: { ...process.env, SSH_AUTH_SOCK: '', SFTP_WIRE_PASSWORD: '', HOME: home, ...env }, timeout: 60_000 },
      (e, stdout, stderr) =>
        resolve({
          code: e ? (typeof (e as { code?: unknown }).code === 'number' ? (e as { code: number }).code : 1) : 0,
          stdout,
          stderr,
        }),
    );
    child.stdin?.end();
  });
}
