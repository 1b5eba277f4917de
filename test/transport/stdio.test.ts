/**
 * The stdin/stdout transport of `serve --stdio`: one net.Socket when stdin and stdout are one socket
 * (sftp -D, sshd), stdin joined with stdout otherwise (separate pipes, files), backpressure both ways.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PacketType as T } from '../../src/protocol/constants.js';
import { decodePacket, encodePacketToBuffer, type Packet } from '../../src/protocol/packets.js';
import { PacketFramer } from '../../src/protocol/framing.js';
import { SftpClient } from '../../src/client/client.js';
import { joinReadWrite } from '../../src/transport/stdio.js';
import { joinStreams, requireOpenSsh, SFTP_PATH } from '../../bench/lib/peers/openssh.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(HERE, 'fixtures', 'stdio-server.ts');
const TSX = path.resolve(HERE, '../../node_modules/tsx/dist/esm/index.mjs');
const fixtureArgs = (root: string): string[] => ['--import', TSX, FIXTURE, root];

describe('joinReadWrite', () => {
  it('passes chunks through in order and holds writes until the output drains', async () => {
    const input = new PassThrough();
    const written: Buffer[] = [];
    let release: (() => void) | undefined;
    const output = new Writable({
      highWaterMark: 4,
      write(chunk: Buffer, _enc, cb) {
        written.push(chunk);
        release = cb; // held until the test lets it go
      },
    });
    const d = joinReadWrite(input, output);
    const got: Buffer[] = [];
    d.on('data', (c: Buffer) => got.push(c));
    for (let i = 0; i < 5; i++) input.write(Buffer.from([i]));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(Buffer.concat(got), Buffer.from([0, 1, 2, 3, 4]));

    let ok = true;
    let n = 0;
    while (ok && n < 1000) ok = d.write(Buffer.alloc(64, n++));
    assert.equal(ok, false, 'the duplex reports backpressure while the output does not drain');
    const drained = new Promise((r) => d.once('drain', r));
    while (written.length < n || release) {
      const r = release;
      release = undefined;
      r?.();
      await new Promise((res) => setImmediate(res));
    }
    await drained;
    assert.equal(written.length, n);
    written.forEach((c, i) => assert.equal(c[0], i % 256));
    const ended = new Promise((r) => d.once('end', r));
    input.end();
    await ended;
  });

  it('pauses its input while nobody reads it, and loses nothing', async () => {
    const input = new PassThrough({ highWaterMark: 16 });
    const d = joinReadWrite(input, new PassThrough());
    const total = 200;
    for (let i = 0; i < total; i++) input.write(Buffer.alloc(100, i));
    input.end();
    await new Promise((r) => setImmediate(r));
    assert.equal(input.isPaused(), true, 'input paused while the duplex is not read');
    const got: Buffer[] = [];
    for await (const c of d) got.push(c as Buffer);
    const all = Buffer.concat(got);
    assert.equal(all.length, total * 100);
    for (let i = 0; i < total; i++) assert.equal(all[i * 100], i % 256);
  });
});

describe('serve on stdio in a child process', () => {
  let work: string;
  let root: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'sftp-wire-stdio-'));
    root = path.join(work, 'root');
    spawnSync('mkdir', ['-p', root]);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('sftp -D (stdin and stdout one socket): one net.Socket; put, get and ls are byte-exact', () => {
    requireOpenSsh(SFTP_PATH);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(path.join(work, 'src.bin'), data);
    const server = ['node', ...fixtureArgs(root)].join(' ');
    const r = spawnSync(SFTP_PATH, ['-q', '-D', server, '-b', '-'], {
      cwd: work,
      input: 'put src.bin /up.bin\nget /up.bin down.bin\nls -l /\n',
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /stdio: one-socket/);
    assert.match(r.stderr, /stdio: session ended/);
    assert.deepEqual(readFileSync(path.join(root, 'up.bin')), data);
    assert.deepEqual(readFileSync(path.join(work, 'down.bin')), data);
    assert.match(r.stdout, /up\.bin/);
  });

  it('separate pipes for stdin and stdout: joined; a client that stalls its reading still gets every byte', async () => {
    const child = spawn(process.execPath, fixtureArgs(root), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const data = randomBytes(8 * 1024 * 1024 + 5);
    writeFileSync(path.join(root, 'big.bin'), data);
    const client = await SftpClient.fromStream(joinStreams(child.stdin!, child.stdout!));
    try {
      // stall: stop reading the server's output for a while during a download
      const out = path.join(work, 'stalled.bin');
      const t = setTimeout(() => child.stdout!.pause(), 5);
      const resume = setTimeout(() => child.stdout!.resume(), 300);
      await client.get('/big.bin', out);
      clearTimeout(t);
      clearTimeout(resume);
      child.stdout!.resume();
      assert.deepEqual(readFileSync(out), data);
      await client.put(out, '/again.bin');
      assert.deepEqual(readFileSync(path.join(root, 'again.bin')), data);
    } finally {
      await client.end();
      child.stdin!.end();
    }
    assert.equal(await exited, 0);
    assert.match(stderr, /stdio: joined/);
    assert.match(stderr, /stdio: session ended/);
  });

  it('stdin and stdout as files: the requests in the file are answered, then the session ends at its end', () => {
    const reqs = [
      encodePacketToBuffer({ type: T.INIT, version: 3, extensions: [] }),
      encodePacketToBuffer({ type: T.MKDIR, id: 1, path: '/made', attrs: {} }),
      encodePacketToBuffer({ type: T.REALPATH, id: 2, path: '.' }),
    ];
    const inFile = path.join(work, 'requests.bin');
    const outFile = path.join(work, 'replies.bin');
    writeFileSync(inFile, Buffer.concat(reqs));
    const fin = openSync(inFile, 'r');
    const fout = openSync(outFile, 'w');
    let r;
    try {
      r = spawnSync(process.execPath, fixtureArgs(root), {
        stdio: [fin, fout, 'pipe'],
        encoding: 'utf8',
        timeout: 30_000,
      });
    } finally {
      closeSync(fin);
      closeSync(fout);
    }
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /stdio: joined/);
    const replies: Packet[] = [];
    const framer = new PacketFramer({ onPacket: (p) => replies.push(decodePacket(p)) }, 1 << 20);
    framer.push(readFileSync(outFile));
    // requests without a handle may be answered in any order
    assert.equal(replies.length, 3);
    assert.equal(replies[0]!.type, T.VERSION);
    const byId = new Map(replies.slice(1).map((p) => ['id' in p ? p.id : -1, p]));
    const made = byId.get(1)!;
    assert.equal(made.type === T.STATUS && made.code, 0);
    const name = byId.get(2)!;
    assert.equal(name.type === T.NAME && name.entries[0]!.filename, '/');
  });
});
