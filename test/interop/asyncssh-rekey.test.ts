/**
 * One SFTP session through many SSH key re-exchanges with AsyncSSH's server (a real Python child
 * process on loopback, re-keying every MiB it sends). AsyncSSH sends SSH_MSG_IGNORE during a
 * re-exchange, which RFC 4253 allows at any time; ssh2 1.17.0 refused it after strict KEX was
 * negotiated and the session died at its first re-key (patched by scripts/patch-ssh2.mjs).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { SftpClient } from '../../src/client/client.js';
import { connectSsh } from '../../src/transport/ssh-client.js';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVER_SCRIPT = path.join(here, 'asyncssh-sftp-server.py');
/** Debian's python3, where python3-asyncssh installs (another python3 on PATH may lack it). */
const PYTHON = '/usr/bin/python3';
const MIB = 1024 * 1024;
const SIZE = 64 * MIB;
const REKEY_BYTES = MIB;

function requireAsyncSsh(): void {
  const r = spawnSync(PYTHON, ['-c', 'import asyncssh'], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${PYTHON} cannot import asyncssh: install python3-asyncssh (.ci/run does)`);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('AsyncSSH server, re-keying every MiB', () => {
  it(`one session moves ${SIZE / MIB} MiB up and back down across many re-keys, byte-identical`, { timeout: 300_000 }, async (t) => {
    requireAsyncSsh();
    const dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-asyncssh-'));
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const keys = generateEd25519KeyPair();
    writeFileSync(path.join(dir, 'authorized_keys'), keys.public + '\n');
    const server = spawn(PYTHON, [SERVER_SCRIPT, root, path.join(dir, 'authorized_keys'), String(REKEY_BYTES)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((r) => server.once('exit', () => r()));
    const killer = setTimeout(() => server.kill('SIGKILL'), 290_000);
    let client: SftpClient | undefined;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        server.once('exit', (code) => reject(new Error(`the AsyncSSH server exited (${code}) before listening`)));
        createInterface({ input: server.stdout! }).once('line', (l) => resolve(Number(l)));
      });
      const conn = await connectSsh({ host: '127.0.0.1', port, username: 'tester', privateKey: keys.private, readyTimeout: 30_000 });
      let rekeys = 0;
      conn.on('handshake', () => rekeys++); // each completed re-exchange after the first
      const errors: Error[] = [];
      conn.on('error', (e) => errors.push(e));
      client = await SftpClient.fromSsh(conn);

      const data = randomBytes(SIZE);
      const local = path.join(dir, 'up.bin');
      writeFileSync(local, data);
      const withSshErrors = (e: Error) => {
        throw new Error(`${e.message}; SSH errors: ${errors.map((x) => x.message).join('; ') || 'none'}`, { cause: e });
      };
      await client.put(local, '/moved.bin').catch(withSshErrors);
      assert.equal(sha256(readFileSync(path.join(root, 'moved.bin'))), sha256(data), 'the upload arrived byte-identical');
      const back = path.join(dir, 'back.bin');
      await client.get('/moved.bin', back).catch(withSshErrors);
      assert.equal(sha256(readFileSync(back)), sha256(data), 'the download is byte-identical');
      assert.deepEqual(errors, []);
      t.diagnostic(`key re-exchanges during the session: ${rekeys}`);
      assert.ok(rekeys >= 32, `the session crossed many key re-exchanges (${rekeys})`);
      await client.end();
      conn.end();
    } finally {
      clearTimeout(killer);
      server.stdin!.end();
      const t = setTimeout(() => server.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
