/**
 * The server process dies (SIGKILL of a real `sftp-wire serve` child) under a client: the library's
 * pending calls reject with SftpError ECONNRESET, nothing is thrown at the client's process, calls after
 * the loss fail, end() resolves and the process exits by itself; the CLI exits 1 with one line. The
 * client runs in a process of its own (test/support/reset-client.ts) so that an uncaught exception or
 * an unhandled rejection is seen, and a hang shows as a process that does not exit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_MAIN } from '../support/cli.js';
import { startServeChild, type ServeChild } from '../support/serve-child.js';
import type { ResetJob } from '../support/reset-client.js';

const CLIENT = fileURLToPath(new URL('../support/reset-client.ts', import.meta.url));
const FREEZING_SERVER = fileURLToPath(new URL('../support/stop-at-subsystem-server.ts', import.meta.url));
/** Sparse: nothing on disk, and far more than can move before the kill. */
const BIG = 2 * 1024 ** 3;
/**
 * A hang guard, not a speed figure (the rejections come some 10-40 ms after the kill): a pending call
 * that nothing wakes would wait forever, and no timer of the client's could pass for the loss.
 */
const SETTLE_LIMIT_MS = 5000;
const WAIT_MS = 90_000;

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sftp-wire-sigkill-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function sparse(path: string, size: number): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
}

/** A fresh case folder: remote/ (the server's root), local/, home/. */
function fresh(): { remote: string; local: string; home: string } {
  const base = join(dir, `case-${++n}`);
  const f = { remote: join(base, 'remote'), local: join(base, 'local'), home: join(base, 'home') };
  for (const d of Object.values(f)) mkdirSync(d, { recursive: true });
  return f;
}

interface Event {
  event: string;
  [k: string]: unknown;
}

interface ClientRun {
  events: Event[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Run the client child on `job`; `onEvent` sees each event as it comes (to kill the server at the right
 * moment). Resolves once the child has exited; a child alive after WAIT_MS is killed and reported.
 */
function runClient(job: ResetJob, onEvent: (e: Event, run: ClientRun) => void): Promise<ClientRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLIENT, JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: ClientRun = { events: [], code: null, signal: null, stderr: '' };
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const e = JSON.parse(line) as Event;
      run.events.push(e);
      onEvent(e, run);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (run.stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      run.stderr += `\n[test] the client child was still running after ${WAIT_MS} ms: killed`;
      child.kill('SIGKILL');
    }, WAIT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      run.code = code;
      run.signal = signal;
      resolve(run);
    });
  });
}

const one = (run: ClientRun, name: string): Event | undefined => run.events.find((e) => e.event === name);

function assertNoUncaught(run: ClientRun): void {
  const uncaught = run.events.filter((e) => e.event === 'uncaught');
  assert.deepEqual(
    uncaught,
    [],
    `nothing reached the process's uncaughtException/unhandledRejection: ${JSON.stringify(uncaught)}`,
  );
  assert.equal(run.signal, null, `the client child was not killed: ${run.stderr}`);
  assert.equal(run.code, 0, `the client child exited by itself, code 0: ${run.stderr}`);
}

/**
 * How the server dies. 'kill': SIGKILL as it runs (the client sees a reset or an end, whichever the
 * kernel sends: a reset when the server had unread bytes). 'stop-kill': SIGSTOP, then SIGKILL 150 ms
 * later — the client keeps sending meanwhile, so the server dies with unread bytes: always a reset.
 */
type Death = 'kill' | 'stop-kill';
const DEATHS: Death[] = ['kill', 'stop-kill'];

/** Kill the server the `death` way; resolves with Date.now() at the SIGKILL. */
async function killServer(server: ServeChild, death: Death): Promise<number> {
  if (death === 'stop-kill') {
    server.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 150));
  }
  const at = Date.now();
  server.child.kill('SIGKILL');
  return at;
}

type Op = { verb: 'get' | 'put'; atomic: boolean };
const OPS: Op[] = [
  { verb: 'get', atomic: false },
  { verb: 'get', atomic: true },
  { verb: 'put', atomic: false },
  { verb: 'put', atomic: true },
];
const label = (op: Op) => `${op.verb}${op.atomic ? ' --atomic' : ''}`;

function job(server: ServeChild, extra: Partial<ResetJob> & Pick<ResetJob, 'op'>): ResetJob {
  return { host: server.host, port: server.port, username: server.username, password: server.password, ...extra };
}

describe('the server SIGKILLed mid-transfer: the library', () => {
  for (const death of DEATHS) {
    for (const op of OPS) {
      it(`${label(op)}, ${death}: rejects with SftpError ECONNRESET, later calls fail, end() resolves, nothing uncaught`, async (t) => {
        const f = fresh();
        const server = await startServeChild(f.remote, f.home);
        try {
          sparse(op.verb === 'get' ? join(f.remote, 'big.bin') : join(f.local, 'big.bin'), BIG);
          let killing: Promise<number> | undefined;
          const run = await runClient(
            job(server, {
              op: op.verb,
              atomic: op.atomic,
              from: op.verb === 'get' ? 'big.bin' : join(f.local, 'big.bin'),
              to: op.verb === 'get' ? join(f.local, 'big.bin') : 'big.bin',
            }),
            (e) => {
              if (e.event === 'moving') killing = killServer(server, death);
            },
          );
          assert.ok(killing, `the transfer was under way when the server was killed: ${JSON.stringify(run.events)}`);
          const killedAt = await killing;
          assert.equal(await server.exited, 'SIGKILL', 'the server was killed');
          assertNoUncaught(run);
          const settled = one(run, 'settled');
          assert.ok(settled, `the transfer settled: ${JSON.stringify(run.events)}`);
          assert.equal(settled.ok, false, 'the transfer failed');
          assert.equal(settled.type, 'SftpError', JSON.stringify(settled));
          assert.equal(settled.code, 'ECONNRESET', JSON.stringify(settled));
          assert.match(
            String(settled.message),
            new RegExp(`the SSH connection to 127\\.0\\.0\\.1:${server.port} (failed|closed)`),
            'the loss of the connection is the reason',
          );
          const latency = (settled.at as number) - killedAt;
          t.diagnostic(`${label(op)}, ${death}: rejected ${latency} ms after the SIGKILL: ${String(settled.message)}`);
          assert.ok(latency < SETTLE_LIMIT_MS, `rejected soon after the kill, not left pending (${latency} ms)`);
          const later = one(run, 'after');
          assert.ok(later && later.ok === false, 'a call after the loss fails');
          assert.equal(later.code, 'ERR_SFTP_CLOSED', JSON.stringify(later));
          assert.equal(one(run, 'ended')?.ok, true, 'end() after the loss resolves');
          if (op.verb === 'get') {
            assert.deepEqual(
              readdirSync(f.local),
              op.atomic ? [] : ['big.bin'],
              op.atomic
                ? 'an atomic download leaves nothing behind'
                : 'the partial download is where it was asked to be',
            );
          }
        } finally {
          await server.stop();
        }
      });
    }
  }
});

describe("SftpClient.fromSsh on the application's own ssh2 Client, the server SIGKILLed mid-get", () => {
  async function getOverOwnClient(userErrorListener: boolean): Promise<ClientRun> {
    const f = fresh();
    const server = await startServeChild(f.remote, f.home);
    try {
      sparse(join(f.remote, 'big.bin'), BIG);
      return await runClient(
        job(server, { op: 'get', from: 'big.bin', to: join(f.local, 'big.bin'), fromSsh: true, userErrorListener }),
        (e) => {
          if (e.event === 'moving') void killServer(server, 'stop-kill');
        },
      );
    } finally {
      await server.stop();
    }
  }

  it("with the application's 'error' listener: it gets the error, our get rejects with ECONNRESET, nothing uncaught", async () => {
    const run = await getOverOwnClient(true);
    assertNoUncaught(run);
    assert.match(
      String(one(run, 'conn-error')?.message),
      /ECONNRESET|EPIPE/,
      `the application's listener saw the reset: ${JSON.stringify(run.events)}`,
    );
    const settled = one(run, 'settled');
    assert.equal(settled?.code, 'ECONNRESET', JSON.stringify(run.events));
    assert.equal(one(run, 'ended')?.ok, true, 'end() after the loss resolves');
  });

  it('with no listener: the error is not swallowed (it is thrown at the process, as ssh2 does), yet our get still rejects with ECONNRESET', async () => {
    const run = await getOverOwnClient(false);
    const uncaught = run.events.filter((e) => e.event === 'uncaught');
    assert.equal(
      uncaught.length,
      1,
      `the application's unhandled connection error reached the process once: ${JSON.stringify(run.events)}`,
    );
    assert.match(String(uncaught[0]!.message), /ECONNRESET|EPIPE/); // a write may meet the reset first
    const settled = one(run, 'settled');
    assert.equal(settled?.code, 'ECONNRESET', `our pending get was not left hanging: ${JSON.stringify(run.events)}`);
    assert.equal(one(run, 'ended')?.ok, true, 'end() after the loss resolves');
    assert.equal(run.code, 0, run.stderr);
  });
});

describe('the server SIGKILLed during the SSH handshake', () => {
  it('connect() rejects with SftpError ECONNRESET; nothing uncaught; the process exits by itself', async () => {
    const f = fresh();
    const server = await startServeChild(f.remote, f.home);
    try {
      // A stopped server still completes TCP connections (the kernel does), but never says hello: the
      // client is inside its SSH handshake when the process is killed.
      server.child.kill('SIGSTOP');
      const run = await runClient(job(server, { op: 'connect' }), (e) => {
        if (e.event === 'tcp-connected') setTimeout(() => server.child.kill('SIGKILL'), 200);
      });
      assertNoUncaught(run);
      assert.ok(one(run, 'tcp-connected'), `the TCP connection was made: ${JSON.stringify(run.events)}`);
      assert.equal(one(run, 'connected'), undefined, 'connect() did not resolve');
      const settled = one(run, 'settled');
      assert.ok(settled, JSON.stringify(run.events));
      assert.equal(settled.type, 'SftpError', JSON.stringify(settled));
      assert.equal(settled.code, 'ECONNRESET', JSON.stringify(settled));
      assert.match(String(settled.message), /127\.0\.0\.1:\d+/, 'the message names the server');
    } finally {
      await server.stop();
    }
  });
});

/**
 * test/support/stop-at-subsystem-server.ts as a child: it freezes once it has granted the sftp
 * subsystem, and is SIGKILLed 200 ms later (the client's INIT unread: a reset).
 */
async function startFreezingServer(username: string, password: string) {
  const server = spawn(process.execPath, ['--import', 'tsx', FREEZING_SERVER, username, password], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const gone = new Promise<NodeJS.Signals | number | null>((resolve) =>
    server.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let froze = false;
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    server.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const m = JSON.parse(buf.slice(0, i)) as { port?: number; freezing?: boolean };
        buf = buf.slice(i + 1);
        if (m.port) resolve(m.port);
        if (m.freezing) {
          froze = true;
          setTimeout(() => server.kill('SIGKILL'), 200);
        }
      }
    });
    void gone.then((how) => reject(new Error(`the server exited (${how}) before listening: ${stderr}`)));
  });
  return {
    port,
    gone,
    froze: () => froze,
    stderr: () => stderr,
    async stop() {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
      await gone;
    },
  };
}

describe('the server SIGKILLed after the SSH handshake, before the SFTP one', () => {
  const [username, password] = ['tester', 'freeze-test-password'];

  it('connect() rejects with SftpError ECONNRESET naming the connection; nothing uncaught; the process exits by itself', async () => {
    const server = await startFreezingServer(username, password);
    try {
      const run = await runClient(
        { host: '127.0.0.1', port: server.port, username, password, op: 'connect' },
        () => undefined,
      );
      assert.ok(
        server.froze(),
        `the server granted the subsystem and froze: ${JSON.stringify(run.events)} ${server.stderr()}`,
      );
      assert.equal(await server.gone, 'SIGKILL', 'the server was killed');
      assertNoUncaught(run);
      assert.equal(one(run, 'connected'), undefined, 'connect() did not resolve');
      const settled = one(run, 'settled');
      assert.ok(settled, JSON.stringify(run.events));
      assert.equal(settled.type, 'SftpError', JSON.stringify(settled));
      assert.equal(settled.code, 'ECONNRESET', JSON.stringify(settled));
      assert.match(
        String(settled.message),
        new RegExp(`the SSH connection to 127\\.0\\.0\\.1:${server.port} (failed|closed)`),
        'the loss of the connection is the reason',
      );
    } finally {
      await server.stop();
    }
  });

  it('sftp-wire get: exit code 1 and one line, lost while connecting', async () => {
    const server = await startFreezingServer(username, password);
    try {
      const f = fresh();
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          CLI_MAIN,
          'get',
          '--host-key-check',
          'off',
          `sftp://${username}@127.0.0.1:${server.port}/x.bin`,
          join(f.local, 'x.bin'),
        ],
        {
          env: { ...process.env, SSH_AUTH_SOCK: '', HOME: f.home, SFTP_WIRE_PASSWORD: password },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.once('exit', (c, s) => resolve([c, s])),
      );
      clearTimeout(timer);
      assert.ok(server.froze(), `the server granted the subsystem and froze: ${stderr} ${server.stderr()}`);
      assert.equal(signal, null, `the CLI exited by itself: ${stderr}`);
      assert.equal(code, 1, stderr);
      const lines = stderr.split('\n').filter((l) => l.trim() !== '');
      assert.deepEqual(lines, [`sftp-wire: connection to 127.0.0.1:${server.port} lost (ECONNRESET) while connecting`]);
      assert.deepEqual(readdirSync(f.local), [], 'nothing written locally');
    } finally {
      await server.stop();
    }
  });
});

/** Sum of the sizes of the files in `d` (the transfer's progress as seen from outside). */
function bytesIn(d: string): number {
  let total = 0;
  for (const name of readdirSync(d)) {
    try {
      total += statSync(join(d, name)).size;
    } catch {
      // renamed or removed meanwhile
    }
  }
  return total;
}

describe('the server SIGKILLed mid-transfer: the CLI', () => {
  for (const death of DEATHS) {
    for (const op of OPS) {
      it(`sftp-wire ${label(op)}, ${death}: exit code 1 and one line on stderr naming the lost connection`, async () => {
        const f = fresh();
        const server = await startServeChild(f.remote, f.home);
        try {
          const url = `sftp://${server.username}@${server.host}:${server.port}/big.bin`;
          const local = join(f.local, 'big.bin');
          if (op.verb === 'put') sparse(local, BIG);
          else sparse(join(f.remote, 'big.bin'), BIG);
          const args = [
            op.verb,
            ...(op.atomic ? ['--atomic'] : []),
            '--host-key-check',
            'off',
            ...(op.verb === 'get' ? [url, local] : [local, url]),
          ];
          const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], {
            env: { ...process.env, SSH_AUTH_SOCK: '', HOME: f.home, SFTP_WIRE_PASSWORD: server.password },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let stderr = '';
          child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
          const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
            child.once('exit', (code, signal) => resolve({ code, signal })),
          );
          // Kill the server once the copy is visibly under way.
          const watched = op.verb === 'get' ? f.local : f.remote;
          const deadline = Date.now() + WAIT_MS;
          while (bytesIn(watched) < 4 * 1024 * 1024) {
            assert.equal(child.exitCode, null, `the CLI ended before the kill: ${stderr}`);
            assert.ok(Date.now() < deadline, `the transfer never got under way: ${stderr}`);
            await new Promise((r) => setTimeout(r, 10));
          }
          await killServer(server, death);
          const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
          const { code, signal } = await exited;
          clearTimeout(timer);
          assert.equal(signal, null, `the CLI exited by itself: ${stderr}`);
          assert.equal(code, 1, stderr);
          const lines = stderr.split('\n').filter((l) => l.trim() !== '');
          assert.equal(lines.length, 1, `exactly one line on stderr:\n${stderr}`);
          const source = op.verb === 'get' ? '/big.bin' : local;
          assert.equal(
            lines[0],
            `sftp-wire: connection to 127.0.0.1:${server.port} lost (ECONNRESET) during ${op.verb} of ${source}`,
          );
          if (op.verb === 'get' && op.atomic) assert.deepEqual(readdirSync(f.local), [], 'nothing left behind');
        } finally {
          await server.stop();
        }
      });
    }
  }
});
