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
 * startDir DIR), both on 127.0.0.1. Under CI=true a missing client is a failure, never a skip.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SFTP_SERVER_PATH, requireOpenSsh, startSshd, type Sshd } from '../support/openssh.js';
import { CLI_MAIN } from '../support/cli.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { startSftpSshServer } from '../../src/transport/ssh-server.js';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';

const PYTHON = '/usr/bin/python3';
const here = path.dirname(fileURLToPath(import.meta.url));
/** tsx by its absolute URL: our stdio server runs from the peer's folder, where `--import tsx` would not resolve. */
const TSX = import.meta.resolve('tsx');

/** One step of the sequence; remote paths are relative to where the server starts. */
interface Op {
  op: string;
  args: string[];
}

const OPS: Op[] = [
  { op: 'realpath', args: ['.'] },
  { op: 'realpath', args: ['~'] },
  { op: 'mkdirp', args: ['a/b/c'] },
  { op: 'put', args: ['small.txt', 'a/small.txt'] },
  { op: 'put', args: ['big.bin', 'a/b/c/big.bin'] },
  { op: 'put', args: ['other.txt', 'a/other.txt'] },
  { op: 'get', args: ['a/small.txt', 'small.back'] },
  { op: 'get', args: ['a/b/c/big.bin', 'big.back'] },
  { op: 'listdir', args: ['a'] },
  { op: 'stat', args: ['a/small.txt'] },
  { op: 'chmod', args: ['a/small.txt', '600'] },
  { op: 'lstat', args: ['a/small.txt'] },
  { op: 'rename', args: ['a/small.txt', 'a/moved.txt'] },
  // onto an existing file: plain RENAME (OpenSSH refuses), then posix-rename@openssh.com where the client has it
  { op: 'rename', args: ['a/moved.txt', 'a/other.txt'] },
  { op: 'posix-rename', args: ['a/moved.txt', 'a/other.txt'] },
  { op: 'symlink', args: ['other.txt', 'a/link'] },
  { op: 'readlink', args: ['a/link'] },
  { op: 'lstat', args: ['a/link'] },
  { op: 'stat', args: ['a/link'] },
  { op: 'listdir', args: ['a'] },
  { op: 'remove', args: ['a/b/c/big.bin'] },
  { op: 'rmdir', args: ['a'] },
  { op: 'rmdir', args: ['a/b/c'] },
  { op: 'get', args: ['a/missing.txt', 'missing.back'] },
  { op: 'stat', args: ['a/missing.txt'] },
  { op: 'realpath', args: ['a/nope'] },
  { op: 'realpath', args: ['a/nope/deeper'] },
];

/** What one operation did, as the client reports it; `message` (the server's own words) is shown, not compared. */
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
      } else out.push(`${r} file ${perm} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`);
    }
  };
  walk('');
  return out;
}

function digest(file: string): { size: number; sha256: string } {
  const data = readFileSync(file);
  return { size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Run a program to its end (bounded), with its exit code and output. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
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
    return { endpoint: { kind: 'ssh', port: sshd.port, user: sshd.username, keyFile: clientKey }, stop: () => sshd.stop() };
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
    return { endpoint: { kind: 'ssh', port: running.port, user: 'tester', keyFile: clientKey }, stop: () => running.close() };
  },
};

/** A client: runs OPS in `dir` (the server's start folder) against `side`, downloads going to `local`. */
interface Client {
  name: string;
  transport: 'stdio' | 'ssh';
  check(): void;
  run(ops: Op[], endpoint: Endpoint, dir: string, local: string): Promise<Outcome[]>;
}

async function pythonClient(which: 'paramiko' | 'asyncssh', ops: Op[], endpoint: Endpoint, dir: string, local: string): Promise<Outcome[]> {
  const script = path.join(here, 'compare-client.py');
  const args = endpoint.kind === 'stdio'
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

const CLIENTS: Client[] = [PARAMIKO, ASYNCSSH];

/** A readable list of what differs between the two servers' runs of one client. */
function differences(ops: Op[], a: Run, b: Run): string[] {
  const diffs: string[] = [];
  const comparable = (o: Outcome): unknown => ('ok' in o && !o.ok ? { ok: false, error: o.error } : o);
  ops.forEach((op, i) => {
    const x = a.outcomes[i];
    const y = b.outcomes[i];
    if (JSON.stringify(comparable(x)) !== JSON.stringify(comparable(y))) {
      diffs.push(`  #${i} ${op.op} ${op.args.join(' ')}\n      openssh:   ${JSON.stringify(x)}\n      sftp-wire: ${JSON.stringify(y)}`);
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
  for (const f of ['small.txt', 'other.txt', 'big.bin']) writeFileSync(path.join(local, f), readFileSync(path.join(localFiles, f)));
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
    chmodSync(work, 0o755);
    localFiles = path.join(work, 'files');
    mkdirSync(localFiles);
    makeLocalFiles(localFiles);
    clientKey = path.join(work, 'client_ed25519');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey], { stdio: 'ignore' });
    assert.ok(existsSync(clientKey), 'ssh-keygen made the client key');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const client of CLIENTS) {
    it(`${client.name} (${client.transport})`, { timeout: 120_000 }, async () => {
      client.check();
      const theirs = await runOn(client, OPENSSH);
      const ours = await runOn(client, OURS);
      // the sequence really ran: on OpenSSH the uploads arrived and the missing file was an error
      assert.ok(theirs.tree.some((l) => l.startsWith('a/b dir')), `${client.name} made a/b on OpenSSH: ${theirs.tree.join('\n')}`);
      const diffs = differences(OPS, theirs, ours);
      assert.deepEqual(diffs, [], `${client.name}: sftp-wire differs from OpenSSH:\n${diffs.join('\n')}`);
    });
  }
});
