/**
 * Defaults for an SSH server facing the network: a cap on connections open at once (sockets past it
 * are closed before a byte is sent), and `sftp-wire serve` closing idle connections unless told not to.
 */
import { generateEd25519KeyPair } from '../../src/transport/keys.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import {
  DEFAULT_MAX_CONNECTIONS,
  startSftpSshServer,
  type RunningSftpSshServer,
} from '../../src/transport/ssh-server.js';
import { DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_CONNECTIONS as CLI_MAX, networkLimits } from '../../src/cli/serve.js';
import { within } from '../../bench/lib/peers/streams.js';

const hostKey = generateEd25519KeyPair().private;
const servers: RunningSftpSshServer[] = [];
const sockets: net.Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) await s.close();
});

/** Connect a raw socket: 'accepted' when the server's SSH version line arrives, 'refused' when it closes first. */
function probe(port: number): Promise<{ outcome: 'accepted' | 'refused'; socket: net.Socket }> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.once('data', (d: Buffer) => {
      assert.match(d.toString('latin1'), /^SSH-2\.0-/);
      resolve({ outcome: 'accepted', socket });
    });
    socket.once('close', () => resolve({ outcome: 'refused', socket }));
    socket.on('error', () => undefined);
  });
}

test('maxConnections: sockets past the cap are closed at once; a freed slot is given to the next one', async () => {
  const logs: string[] = [];
  const running = await startSftpSshServer({
    server: new SftpServer({ fs: new MemoryFs() }),
    hostKeys: [hostKey],
    maxConnections: 2,
    log: (m) => logs.push(m),
  });
  servers.push(running);
  const first = await within(probe(running.port), 5000, 'first');
  const second = await within(probe(running.port), 5000, 'second');
  assert.equal(first.outcome, 'accepted');
  assert.equal(second.outcome, 'accepted');
  for (let i = 0; i < 3; i++)
    assert.equal((await within(probe(running.port), 5000, 'over the cap')).outcome, 'refused');
  assert.equal(first.socket.destroyed, false, 'the connections within the cap are untouched');
  assert.equal(logs.filter((l) => l.includes('maxConnections')).length, 1, `logged once per burst: ${logs}`);
  first.socket.destroy();
  // the server sees the close a moment later: the next connection gets the slot
  let next = await within(probe(running.port), 5000, 'after a close');
  for (let i = 0; i < 200 && next.outcome === 'refused'; i++) {
    await new Promise((r) => setTimeout(r, 10));
    next = await within(probe(running.port), 5000, 'after a close');
  }
  assert.equal(next.outcome, 'accepted');
  const total = logs.map((l) => /refused (\d+) while/.exec(l)).find((m) => m);
  assert.ok(total && Number(total[1]) >= 3, `the burst is counted when it ends: ${logs}`);
});

test('maxConnections below 1 is refused; the default is 256', async () => {
  await assert.rejects(
    startSftpSshServer({ server: new SftpServer({ fs: new MemoryFs() }), hostKeys: [hostKey], maxConnections: 0 }),
    RangeError,
  );
  assert.equal(DEFAULT_MAX_CONNECTIONS, 256);
  assert.equal(CLI_MAX, DEFAULT_MAX_CONNECTIONS, 'the CLI documents the same default');
});

test('sftp-wire serve: idle timeout 10 minutes and 256 connections by default; --idle-timeout 0 disables it', () => {
  assert.equal(DEFAULT_IDLE_TIMEOUT_S, 600);
  assert.deepEqual(networkLimits({}), { idleTimeoutMs: 600_000, maxConnections: 256 });
  assert.deepEqual(networkLimits({ 'idle-timeout': '0' }), { idleTimeoutMs: undefined, maxConnections: 256 });
  assert.deepEqual(networkLimits({ 'idle-timeout': '1.5', 'max-connections': '10' }), {
    idleTimeoutMs: 1500,
    maxConnections: 10,
  });
  for (const bad of ['-1', 'abc', '', 'Infinity'])
    assert.ok('error' in networkLimits({ 'idle-timeout': bad }), `--idle-timeout ${bad}`);
  for (const bad of ['0', '-3', '2.5', 'x'])
    assert.ok('error' in networkLimits({ 'max-connections': bad }), `--max-connections ${bad}`);
  const help = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--help'], {
    encoding: 'utf8',
  });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--idle-timeout SECONDS.*\n.*\(default 600; 0: never\)/);
  assert.match(help.stdout, /--max-connections N[\s\S]*\(default 256\)/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--max-connections', '0'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /bad --max-connections/);
});
