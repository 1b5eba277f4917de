/**
 * Real clients nobody here wrote — paramiko, AsyncSSH, lftp, rclone and curl — each run the same
 * sequence of operations against OpenSSH's sftp-server and against ours, each time in a fresh folder
 * where the server starts. Per client, every operation's outcome (ok with its value, or the error
 * the client reports) and the folder's final tree must be the same on both servers; a difference is
 * a failure listing each one.
 *
 * Transports: paramiko and lftp run the servers on their own pipes (`sftp-server` and `sftp-wire
 * serve --stdio`, as OpenSSH's `sftp -D` would); AsyncSSH, rclone and curl (libssh2) need SSH, so
 * they reach OpenSSH's sshd (Subsystem sftp-server -d DIR) and our SSH server (startSftpSshServer,
 * startDir DIR), both on 127.0.0.1. A missing client is a failure naming its Debian package (under
 * CI=true as anywhere), never a skip.
 *
 * Found and fixed with it: REALPATH through a missing folder (a/nope/deeper) made up a path where
 * OpenSSH answers NO_SUCH_FILE (test/server/start-dir.test.ts pins it).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SFTP_SERVER_PATH, requireOpenSsh, startSshd, type Sshd } from '../../bench/lib/peers/openssh.js';
import { CLI_MAIN } from '../support/cli.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { startSftpSshServer } from '../../src/transport/ssh-server.js';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';

const PYTHON = '/usr/bin/python3';
const here = path.dirname(fileURLToPath(import.meta.url));
/** tsx by its absolute URL: our stdio server runs from the peer's folder, where `--import tsx` would not resolve. */
const TSX = import.meta.resolve('tsx');

/** A value the test knows is there: a missing one fails, naming `what`. */
function must<T>(x: T | undefined, what: string): T {
  assert.ok(x !== undefined, `missing: ${what}`);
  return x;
}

/**
 * One step of the sequence; remote paths are relative to where the server starts. `expect`: what
 * OpenSSH's answer must be for every client that has the operation, so the test cannot pass on two
 * runs that both went wrong early.
 */
interface Op {
  op: string;
  args: string[];
  expect?: 'ok' | 'error';
}

/** Argument `i` of `op`: an op listed without it fails, naming the op. */
function arg(op: Op, i: number): string {
  return must(op.args[i], `argument #${i} of ${op.op} ${op.args.join(' ')}`);
}

const OPS: Op[] = [
  { op: 'realpath', args: ['.'], expect: 'ok' },
  { op: 'realpath', args: ['~'] },
  { op: 'mkdirp', args: ['a/b/c'], expect: 'ok' },
  // again: the folders are there (lftp's mkdir -p then fails, the others' succeed)
  { op: 'mkdirp', args: ['a/b/c'] },
  { op: 'mkdir', args: ['a'] },
  { op: 'put', args: ['small.txt', 'a/small.txt'], expect: 'ok' },
  { op: 'put', args: ['big.bin', 'a/b/c/big.bin'], expect: 'ok' },
  { op: 'put', args: ['other.txt', 'a/other.txt'], expect: 'ok' },
  { op: 'put', args: ['big.bin', 'a/other.txt'], expect: 'ok' },
  { op: 'put', args: ['other.txt', 'a/other.txt'], expect: 'ok' },
  { op: 'put', args: ['small.txt', 'a/sp ace ü.txt'], expect: 'ok' },
  { op: 'put', args: ['small.txt', 'nodir/x.txt'] },
  { op: 'get', args: ['a/small.txt', 'small.back'], expect: 'ok' },
  { op: 'get', args: ['a/b/c/big.bin', 'big.back'], expect: 'ok' },
  { op: 'get', args: ['a/sp ace ü.txt', 'space.back'], expect: 'ok' },
  { op: 'get', args: ['a/b', 'dir.back'] },
  { op: 'listdir', args: ['a'], expect: 'ok' },
  { op: 'listdir', args: ['a/other.txt'] },
  { op: 'listdir', args: ['missing'], expect: 'error' },
  { op: 'stat', args: ['a/small.txt'], expect: 'ok' },
  { op: 'chmod', args: ['a/small.txt', '600'], expect: 'ok' },
  { op: 'chmod', args: ['a/missing.txt', '600'], expect: 'error' },
  { op: 'lstat', args: ['a/small.txt'], expect: 'ok' },
  { op: 'utime', args: ['a/small.txt', '1000000000'], expect: 'ok' },
  { op: 'mtime', args: ['a/small.txt'], expect: 'ok' },
  { op: 'rename', args: ['a/small.txt', 'a/moved.txt'], expect: 'ok' },
  // onto an existing file: plain RENAME (OpenSSH refuses), then posix-rename@openssh.com where the client has it
  { op: 'rename', args: ['a/moved.txt', 'a/other.txt'] },
  { op: 'posix-rename', args: ['a/moved.txt', 'a/other.txt'], expect: 'ok' },
  { op: 'rename', args: ['a/missing.txt', 'a/x.txt'], expect: 'error' },
  { op: 'rename', args: ['a/b', 'a/b2'], expect: 'ok' },
  { op: 'symlink', args: ['other.txt', 'a/link'], expect: 'ok' },
  { op: 'symlink', args: ['nowhere', 'a/dangling'], expect: 'ok' },
  { op: 'symlink', args: ['other.txt', 'a/other.txt'], expect: 'error' },
  { op: 'readlink', args: ['a/link'], expect: 'ok' },
  { op: 'readlink', args: ['a/other.txt'], expect: 'error' },
  { op: 'lstat', args: ['a/link'], expect: 'ok' },
  { op: 'stat', args: ['a/link'] },
  { op: 'lstat', args: ['a/dangling'], expect: 'ok' },
  { op: 'stat', args: ['a/dangling'] },
  { op: 'realpath', args: ['a/link'], expect: 'ok' },
  { op: 'listdir', args: ['a'], expect: 'ok' },
  { op: 'remove', args: ['a/b2/c/big.bin'], expect: 'ok' },
  { op: 'remove', args: ['a/b2'], expect: 'error' },
  { op: 'rmdir', args: ['a'], expect: 'error' },
  { op: 'rmdir', args: ['a/other.txt'], expect: 'error' },
  { op: 'rmdir', args: ['a/b2/c'], expect: 'ok' },
  { op: 'get', args: ['a/missing.txt', 'missing.back'], expect: 'error' },
  { op: 'stat', args: ['a/missing.txt'], expect: 'error' },
  { op: 'realpath', args: ['a/nope'], expect: 'ok' },
  { op: 'realpath', args: ['a/nope/deeper'], expect: 'error' },
  { op: 'realpath', args: ['a/other.txt/x'], expect: 'error' },
];

/**
 * What one operation did, as the client reports it. `message` is shown in a failure, not compared:
 * the one named allowance of this test. An error status carries the server's own words, and ours
 * name the errno ("ENOTEMPTY: directory not empty") where OpenSSH's sftp-server says only
 * "Failure"; the status code, and so the error kind each client reports, must be the same.
 */
type Outcome = { ok: true; value: unknown } | { ok: false; error: string; message?: string } | { na: true };

interface Run {
  outcomes: Outcome[];
  tree: string[];
}

/** The files the clients upload, made once: a small text, a second one, and a 1.5 MiB binary. */
function makeLocalFiles(dir: string): void {
  writeFileSync(path.join(dir, 'small.txt'), 'hello\n');
  writeFileSync(path.join(dir, 'other.txt'), 'other\n');
  const big = Buffer.alloc(1_572_867);
  for (let i = 0, x = 1; i < big.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    big[i] = x >>> 24;
  }
  writeFileSync(path.join(dir, 'big.bin'), big);
}

/** Every entry under `dir`: path, type, size, permissions, and content digest or link target. */
function treeOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(dir, r);
      const st = lstatSync(p);
      const perm = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${r} symlink -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`${r} dir ${perm}`);
        walk(r);
      } else
        out.push(
          `${r} file ${perm} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`,
        );
    }
  };
  walk('');
  return out;
}

/** What a download left: the file's size and digest (a folder, for a client that copies one: its tree). */
function digest(file: string): { size: number; sha256: string } | { tree: string[] } {
  if (lstatSync(file).isDirectory()) return { tree: treeOf(file) };
  const data = readFileSync(file);
  return { size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Run a program to its end (bounded), with its exit code and output. */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A client program must be there: under CI and off it alike, a missing one is a failure naming its package. */
function requireProgram(file: string, debianPackage: string): void {
  if (!existsSync(file)) throw new Error(`${file} is not installed: install ${debianPackage} (.ci/run does)`);
}
function requirePython(module: string, debianPackage: string): void {
  requireProgram(PYTHON, 'python3');
  if (spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`${PYTHON} cannot import ${module}: install ${debianPackage} (.ci/run does)`);
  }
}

/** Where a client connects: a stdio command started in the folder, or an SSH server on 127.0.0.1. */
type Endpoint = { kind: 'stdio'; command: string[] } | { kind: 'ssh'; port: number; user: string; keyFile: string };

/** A server side: OpenSSH's or ours, giving an endpoint that starts in `dir`. */
interface ServerSide {
  name: 'openssh' | 'sftp-wire';
  stdio(): string[];
  ssh(dir: string): Promise<{ endpoint: Endpoint; stop(): Promise<void> }>;
}

let work: string;
let localFiles: string;
let clientKey: string;

const OPENSSH: ServerSide = {
  name: 'openssh',
  stdio: () => [requireOpenSsh(SFTP_SERVER_PATH)],
  async ssh(dir) {
    const sshd: Sshd = await startSshd({ subsystem: `${SFTP_SERVER_PATH} -d ${dir}` });
    writeFileSync(path.join(sshd.dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
    return {
      endpoint: { kind: 'ssh', port: sshd.port, user: sshd.username, keyFile: clientKey },
      stop: () => sshd.stop(),
    };
  },
};

const OURS: ServerSide = {
  name: 'sftp-wire',
  stdio: () => [process.execPath, '--import', TSX, CLI_MAIN, 'serve', '--stdio'],
  async ssh(dir) {
    const running = await startSftpSshServer({
      server: new SftpServer({ root: '/', startDir: dir }),
      hostKeys: [generateEd25519KeyPair().private],
      host: '127.0.0.1',
      port: 0,
      authorizedKeysFile: `${clientKey}.pub`,
    });
    return {
      endpoint: { kind: 'ssh', port: running.port, user: 'tester', keyFile: clientKey },
      stop: () => running.close(),
    };
  },
};

/** A client: runs OPS in `dir` (the server's start folder) against `side`, downloads going to `local`. */
interface Client {
  name: string;
  transport: 'stdio' | 'ssh';
  check(): void;
  run(ops: Op[], endpoint: Endpoint, dir: string, local: string): Promise<Outcome[]>;
}

async function pythonClient(
  which: 'paramiko' | 'asyncssh',
  ops: Op[],
  endpoint: Endpoint,
  dir: string,
  local: string,
): Promise<Outcome[]> {
  const script = path.join(here, 'compare-client.py');
  const args =
    endpoint.kind === 'stdio'
      ? [script, which, JSON.stringify(ops), local, '--', ...endpoint.command]
      : [script, which, JSON.stringify(ops), local, String(endpoint.port), endpoint.user, endpoint.keyFile];
  const r = await run(PYTHON, args, { cwd: dir, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  assert.equal(r.code, 0, `${which} client failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Outcome[];
}

const PARAMIKO: Client = {
  name: 'paramiko',
  transport: 'stdio',
  check: () => requirePython('paramiko', 'python3-paramiko'),
  run: (ops, endpoint, dir, local) => pythonClient('paramiko', ops, endpoint, dir, local),
};

const ASYNCSSH: Client = {
  name: 'asyncssh',
  transport: 'ssh',
  check: () => requirePython('asyncssh', 'python3-asyncssh'),
  run: (ops, endpoint, dir, local) => pythonClient('asyncssh', ops, endpoint, dir, local),
};

/** A shell word: `s` in single quotes. */
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** An `ls -l` line without its date (three fields before the name), which differs between runs. */
function withoutDate(line: string): string {
  const f = line.trim().split(/\s+/);
  return f.length >= 9 ? [...f.slice(0, 5), ...f.slice(8)].join(' ') : line.trim();
}

/** The ops lftp has, as lftp commands (undefined: it has none). */
function lftpCommand(op: Op, local: string): string | undefined {
  const a = arg(op, 0);
  // the second argument, checked where an op uses it
  const b = (): string => arg(op, 1);
  switch (op.op) {
    case 'mkdirp':
      return `mkdir -p ${shq(a)}`;
    case 'mkdir':
      return `mkdir ${shq(a)}`;
    case 'put':
      return `put ${shq(path.join(local, a))} -o ${shq(b())}`;
    case 'get':
      return `get ${shq(a)} -o ${shq(path.join(local, b()))}`;
    // `ls` shows the server's own longnames (`cls` would show lftp's parse of them)
    case 'listdir':
      return `ls ${shq(a)}`;
    case 'stat':
      return `cls -ld ${shq(a)}`;
    case 'chmod':
      return `chmod ${b()} ${shq(a)}`;
    case 'rename':
      return `mv ${shq(a)} ${shq(b())}`;
    case 'symlink':
      return `ln -s ${shq(a)} ${shq(b())}`;
    case 'remove':
      return `rm ${shq(a)}`;
    case 'rmdir':
      return `rmdir ${shq(a)}`;
    default:
      return undefined;
  }
}

/** lftp's error line, "[COMMAND: [WHAT: ]]KIND: server's words (path)"; KIND is lftp's ("Access failed"). */
const LFTP_ERROR = /^(?:\w+: )?(?:[^:]*: )?([A-Z][a-z]+ (?:failed|error)): ?(.*)$/;

/**
 * lftp, one session for the whole sequence: its `sftp:connect-program` starts the server in the
 * folder on its pipes. Each command is preceded by a marker line; an error is the line lftp prints
 * as LFTP_ERROR.
 */
const LFTP: Client = {
  name: 'lftp',
  transport: 'stdio',
  check: () => requireProgram('/usr/bin/lftp', 'lftp'),
  async run(ops, endpoint, dir, local) {
    assert.equal(endpoint.kind, 'stdio');
    const connect = path.join(local, 'connect.sh');
    writeFileSync(connect, `#!/bin/sh\ncd ${shq(dir)} && exec ${endpoint.command.map(shq).join(' ')}\n`, {
      mode: 0o755,
    });
    const lines = [
      `set sftp:connect-program ${shq(connect)}`,
      'set cmd:fail-exit no',
      'set net:max-retries 1',
      'set net:timeout 20',
      'set xfer:clobber yes',
      'open sftp://tester:unused@localhost',
    ];
    ops.forEach((op, i) => {
      const cmd = lftpCommand(op, local);
      if (cmd !== undefined) lines.push(`echo @@${i}`, cmd);
    });
    lines.push('echo @@end');
    const script = path.join(local, 'script.lftp');
    writeFileSync(script, lines.join('\n') + '\n');
    // stdout and stderr into one pipe, so each error line stays after its marker
    const r = await run('/bin/sh', ['-c', `lftp -f ${shq(script)} 2>&1`], { env: { ...process.env, HOME: local } });
    assert.equal(r.code, 0, `lftp: ${r.stdout}`);
    assert.match(r.stdout, /@@end/, `lftp ran the whole script: ${r.stdout}`);
    const sections = new Map<number, string[]>();
    let current = -1;
    for (const line of r.stdout.split('\n')) {
      const m = /^@@(\d+|end)$/.exec(line);
      if (m) current = m[1] === 'end' ? -1 : Number(m[1]);
      else if (current >= 0 && line !== '') sections.set(current, [...(sections.get(current) ?? []), line]);
    }
    return ops.map((op, i): Outcome => {
      if (lftpCommand(op, local) === undefined) return { na: true };
      const out = sections.get(i) ?? [];
      const err = out.map((l) => LFTP_ERROR.exec(l)).find((m) => m !== null);
      if (err)
        return {
          ok: false,
          error: must(err[1], `lftp error kind in ${err[0]}`),
          message: must(err[2], `lftp error words in ${err[0]}`),
        };
      if (op.op === 'get') return { ok: true, value: digest(path.join(local, arg(op, 1))) };
      return { ok: true, value: out.map(withoutDate).sort() };
    });
  },
};

/** The ops rclone has, as rclone arguments on the remote `remote` (undefined: it has none). */
function rcloneArgs(op: Op, remote: string, local: string): string[] | undefined {
  const a = arg(op, 0);
  // the second argument, checked where an op uses it
  const b = (): string => arg(op, 1);
  switch (op.op) {
    // rclone's mkdir is mkdir -p
    case 'mkdirp':
    case 'mkdir':
      return ['mkdir', remote + a];
    case 'utime':
      return [
        'touch',
        '--no-create',
        '--timestamp',
        new Date(Number(b()) * 1000).toISOString().slice(0, 19),
        remote + a,
      ];
    case 'mtime':
      return ['lsjson', '--stat', remote + a];
    case 'put':
      return ['copyto', path.join(local, a), remote + b()];
    case 'get':
      return ['copyto', remote + a, path.join(local, b())];
    case 'listdir':
      return ['lsjson', remote + a];
    case 'stat':
      return ['lsjson', '--stat', remote + a];
    // rclone's move replaces an existing destination
    case 'rename':
      return ['moveto', remote + a, remote + b()];
    case 'remove':
      return ['deletefile', remote + a];
    case 'rmdir':
      return ['rmdir', remote + a];
    default:
      return undefined;
  }
}

/** The fields of rclone's lsjson that come from the server (not its times). */
function rcloneEntry(e: { Name: string; Size: number; IsDir: boolean }): unknown {
  return { name: e.Name, size: e.Size, isDir: e.IsDir };
}

/**
 * rclone's sftp backend, one rclone process per operation, on an on-the-fly remote. No shell
 * commands (shell_type none, no hash check): SFTP only, as our SSH server offers nothing else. An
 * error is rclone's exit code.
 */
const RCLONE: Client = {
  name: 'rclone',
  transport: 'ssh',
  check: () => requireProgram('/usr/bin/rclone', 'rclone'),
  async run(ops, endpoint, _dir, local) {
    assert.equal(endpoint.kind, 'ssh');
    const remote = `:sftp,host=127.0.0.1,port=${endpoint.port},user=${endpoint.user},key_file="${endpoint.keyFile}",shell_type=none,disable_hashcheck=true:`;
    const outcomes: Outcome[] = [];
    for (const op of ops) outcomes.push(await rcloneOp(op, remote, local));
    return outcomes;
  },
};

async function rcloneOp(op: Op, remote: string, local: string): Promise<Outcome> {
  const args = rcloneArgs(op, remote, local);
  if (args === undefined) return { na: true };
  const r = await run(
    '/usr/bin/rclone',
    [...args, '-q', '--retries', '1', '--low-level-retries', '1', '--contimeout', '20s', '--timeout', '30s'],
    {
      env: { ...process.env, RCLONE_CONFIG: path.join(local, 'rclone.conf'), HOME: local },
    },
  );
  if (r.code !== 0) return { ok: false, error: `exit ${r.code}`, message: r.stderr.trim().split('\n').pop() };
  if (op.op === 'get') return { ok: true, value: digest(path.join(local, arg(op, 1))) };
  if (op.op === 'listdir')
    return {
      ok: true,
      value: (JSON.parse(r.stdout) as { Name: string; Size: number; IsDir: boolean }[])
        .map(rcloneEntry)
        .sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)),
    };
  if (op.op === 'stat')
    return { ok: true, value: rcloneEntry(JSON.parse(r.stdout) as { Name: string; Size: number; IsDir: boolean }) };
  if (op.op === 'mtime')
    return { ok: true, value: Date.parse((JSON.parse(r.stdout) as { ModTime: string }).ModTime) / 1000 };
  return { ok: true, value: null };
}

/**
 * The ops curl has, as curl arguments (undefined: it has none). Paths start at the login folder
 * ("/~/", which libssh2 finds by REALPATH "."); the other operations are quote commands before a
 * listing of that folder.
 */
function curlArgs(op: Op, base: string, local: string): string[] | undefined {
  const a = arg(op, 0);
  // the second argument, checked where an op uses it
  const b = (): string => arg(op, 1);
  const quote = (...cmds: string[]): string[] => [...cmds.flatMap((c) => ['-Q', c]), '-o', '/dev/null', base];
  const url = (p: string): string => base + p.split('/').map(encodeURIComponent).join('/');
  switch (op.op) {
    case 'mkdirp': {
      const parts = a.split('/');
      // "*": a failing mkdir (the folder is there) does not stop the others, as mkdir -p
      return quote(...parts.map((_, i) => `*mkdir /~/${parts.slice(0, i + 1).join('/')}`));
    }
    case 'put':
      return ['-T', path.join(local, a), url(b())];
    case 'get':
      return ['-o', path.join(local, b()), url(a)];
    case 'listdir':
      return [url(a) + '/'];
    case 'mkdir':
      return quote(`mkdir /~/${a}`);
    case 'chmod':
      return quote(`chmod ${b()} /~/${a}`);
    case 'utime':
      return quote(`mtime "${new Date(Number(b()) * 1000).toUTCString()}" /~/${a}`);
    case 'rename':
      return quote(`rename /~/${a} /~/${b()}`);
    case 'symlink':
      return quote(`symlink ${a} /~/${b()}`);
    case 'remove':
      return quote(`rm /~/${a}`);
    case 'rmdir':
      return quote(`rmdir /~/${a}`);
    default:
      return undefined;
  }
}

/** curl (libssh2) over SSH, one curl process per operation. An error is curl's exit code. */
const CURL: Client = {
  name: 'curl',
  transport: 'ssh',
  check: () => {
    requireProgram('/usr/bin/curl', 'curl');
    const v = spawnSync('/usr/bin/curl', ['-V'], { encoding: 'utf8' }).stdout;
    if (!/\bsftp\b/.test(v)) throw new Error(`curl has no sftp: (it needs libssh2 or libssh): ${v.split('\n')[0]}`);
  },
  async run(ops, endpoint, _dir, local) {
    assert.equal(endpoint.kind, 'ssh');
    const base = `sftp://127.0.0.1:${endpoint.port}/~/`;
    const common = [
      '-sS',
      '--insecure',
      '--key',
      endpoint.keyFile,
      '--pubkey',
      `${endpoint.keyFile}.pub`,
      '-u',
      `${endpoint.user}:`,
      '--connect-timeout',
      '20',
      '--max-time',
      '60',
    ];
    const outcomes: Outcome[] = [];
    for (const op of ops) {
      const args = curlArgs(op, base, local);
      if (args === undefined) {
        outcomes.push({ na: true });
        continue;
      }
      const r = await run('/usr/bin/curl', [...common, ...args], { env: { ...process.env, HOME: local } });
      if (r.code !== 0) outcomes.push({ ok: false, error: `exit ${r.code}`, message: r.stderr.trim() });
      else if (op.op === 'get') outcomes.push({ ok: true, value: digest(path.join(local, arg(op, 1))) });
      else if (op.op === 'listdir')
        outcomes.push({
          ok: true,
          value: r.stdout
            .split('\n')
            .filter((l) => l !== '')
            .map(withoutDate)
            .sort(),
        });
      else outcomes.push({ ok: true, value: null });
    }
    return outcomes;
  },
};

const CLIENTS: Client[] = [PARAMIKO, ASYNCSSH, LFTP, RCLONE, CURL];

/** A readable list of what differs between the two servers' runs of one client. */
function differences(ops: Op[], a: Run, b: Run): string[] {
  const diffs: string[] = [];
  const comparable = (o: Outcome): unknown => ('ok' in o && !o.ok ? { ok: false, error: o.error } : o);
  ops.forEach((op, i) => {
    const x = must(a.outcomes[i], `openssh outcome #${i}`);
    const y = must(b.outcomes[i], `sftp-wire outcome #${i}`);
    if (JSON.stringify(comparable(x)) !== JSON.stringify(comparable(y))) {
      diffs.push(
        `  #${i} ${op.op} ${op.args.join(' ')}\n      openssh:   ${JSON.stringify(x)}\n      sftp-wire: ${JSON.stringify(y)}`,
      );
    }
  });
  const ta = new Set(a.tree);
  const tb = new Set(b.tree);
  for (const l of a.tree) if (!tb.has(l)) diffs.push(`  tree: only with openssh:   ${l}`);
  for (const l of b.tree) if (!ta.has(l)) diffs.push(`  tree: only with sftp-wire: ${l}`);
  return diffs;
}

/** Replace the start folder's real path by <start>, so values from two folders compare. */
function relativeTo(dir: string, outcomes: Outcome[]): Outcome[] {
  return JSON.parse(JSON.stringify(outcomes).split(dir).join('<start>')) as Outcome[];
}

async function runOn(client: Client, side: ServerSide): Promise<Run> {
  const dir = mkdtempSync(path.join(work, `${client.name}-${side.name}-`));
  const local = mkdtempSync(path.join(work, `${client.name}-${side.name}-local-`));
  for (const f of ['small.txt', 'other.txt', 'big.bin'])
    writeFileSync(path.join(local, f), readFileSync(path.join(localFiles, f)));
  let outcomes: Outcome[];
  if (client.transport === 'stdio') {
    outcomes = await client.run(OPS, { kind: 'stdio', command: side.stdio() }, dir, local);
  } else {
    const server = await side.ssh(dir);
    try {
      outcomes = await client.run(OPS, server.endpoint, dir, local);
    } finally {
      await server.stop();
    }
  }
  assert.equal(outcomes.length, OPS.length, `${client.name} on ${side.name} reported every operation`);
  return { outcomes: relativeTo(dir, outcomes), tree: treeOf(dir) };
}

describe('real SFTP clients: the same outcomes from OpenSSH and from sftp-wire', () => {
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'sftp-wire-compare-'));
    localFiles = path.join(work, 'files');
    mkdirSync(localFiles);
    makeLocalFiles(localFiles);
    clientKey = path.join(work, 'client_ed25519');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey], { stdio: 'ignore' });
    assert.ok(existsSync(clientKey), 'ssh-keygen made the client key');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const client of CLIENTS) {
    it(`${client.name} (${client.transport})`, { timeout: 300_000 }, async () => {
      client.check();
      const theirs = await runOn(client, OPENSSH);
      const ours = await runOn(client, OURS);
      // the sequence really ran: the folders were made, what must succeed did on OpenSSH, what must fail failed there
      assert.ok(
        theirs.tree.some((l) => l.startsWith('a dir')),
        `${client.name} made a on OpenSSH: ${theirs.tree.join('\n')}`,
      );
      OPS.forEach((op, i) => {
        const o = must(theirs.outcomes[i], `${client.name} on OpenSSH, outcome #${i}`);
        if (op.expect === undefined || 'na' in o) return;
        assert.equal(
          o.ok,
          op.expect === 'ok',
          `${client.name} on OpenSSH, #${i} ${op.op} ${op.args.join(' ')}: ${JSON.stringify(o)}`,
        );
      });
      const ran = theirs.outcomes.filter((o) => !('na' in o)).length;
      assert.ok(ran >= 12, `${client.name} does at least 12 of the ${OPS.length} operations (${ran})`);
      const diffs = differences(OPS, theirs, ours);
      assert.deepEqual(diffs, [], `${client.name}: sftp-wire differs from OpenSSH:\n${diffs.join('\n')}`);
    });
  }
});
