// The client's guessed SYMLINK order is checked on the session's first symlink: servers that read the
// paths the other way round from what they announce (extensions) get the wrong link undone and the
// symlink redone in their order, which the session keeps. An explicit order is never checked.
// Fake servers keep their links in a Map and read SYMLINK in one order; our own server on a real
// folder does it on disk.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { PacketType as T, SftpError, StatusCode } from '../../src/protocol/index.js';
import { SftpClient, type ClientOptions } from '../../src/client/client.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { FakeServer, type Request } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

type Order = 'openssh' | 'draft';

/**
 * A server holding only symlinks (path -> target), reading SYMLINK in `reads` order, announcing an
 * @openssh.com extension or none (the bare-stream client guesses OpenSSH's order from it).
 */
function linkServer(reads: Order, announcesOpenSsh: boolean, stream: import('node:stream').Duplex) {
  const links = new Map<string, string>();
  const s = new FakeServer(stream);
  if (announcesOpenSsh) s.extensions = [{ name: 'posix-rename@openssh.com', data: Buffer.from('1') }];
  const status = (id: number, code: number, message = '') => s.send({ type: T.STATUS, id, code, message, lang: '' });
  s.onRequest = (r: Request) => {
    if (r.type === T.SYMLINK) {
      const [target, link] = reads === 'openssh' ? [r.first, r.second] : [r.second, r.first];
      if (links.has(link)) return status(r.id, StatusCode.FAILURE, 'exists');
      links.set(link, target);
      return status(r.id, StatusCode.OK);
    }
    if (r.type === T.READLINK) {
      const t = links.get(r.path);
      if (t === undefined) return status(r.id, StatusCode.NO_SUCH_FILE);
      return s.send({ type: T.NAME, id: r.id, entries: [{ filename: t, longname: t, attrs: {} }] });
    }
    if (r.type === T.REMOVE) {
      if (!links.delete(r.path)) return status(r.id, StatusCode.NO_SUCH_FILE);
      return status(r.id, StatusCode.OK);
    }
    status(r.id, StatusCode.OP_UNSUPPORTED);
  };
  return { server: s, links };
}

async function connect(reads: Order, announcesOpenSsh: boolean, opts: ClientOptions = {}) {
  const [a, b] = memoryPair();
  const fake = linkServer(reads, announcesOpenSsh, b);
  const client = await SftpClient.fromStream(a, opts);
  const types = () => fake.server.received.map((r) => r.type);
  return { client, ...fake, types };
}

describe('SYMLINK order checked once per session', () => {
  test('announces OpenSSH, reads the draft order: the swapped link is removed, the symlink redone, the order kept', async () => {
    const { client, links, types, server } = await connect('draft', true);
    assert.deepEqual(client.symlinkOrder, { order: 'openssh', checked: false });
    await client.symlink('target.txt', '/dir/link');
    assert.deepEqual([...links], [['/dir/link', 'target.txt']]);
    assert.deepEqual(types(), [T.SYMLINK, T.READLINK, T.READLINK, T.REMOVE, T.SYMLINK]);
    assert.deepEqual(client.symlinkOrder, { order: 'draft', checked: true });
    server.received.length = 0;
    await client.symlink('/abs/t', 'l2');
    assert.deepEqual(types(), [T.SYMLINK], 'settled: no more READLINKs');
    assert.equal(links.get('l2'), '/abs/t');
    await client.end();
  });

  test('announces nothing, reads OpenSSH order: corrected the same way', async () => {
    const { client, links, types } = await connect('openssh', false);
    assert.deepEqual(client.symlinkOrder, { order: 'draft', checked: false });
    await client.symlink('../t', 'sub/link');
    assert.deepEqual([...links], [['sub/link', '../t']]);
    assert.deepEqual(types(), [T.SYMLINK, T.READLINK, T.READLINK, T.REMOVE, T.SYMLINK]);
    assert.deepEqual(client.symlinkOrder, { order: 'openssh', checked: true });
    await client.end();
  });

  test('a right guess costs one READLINK, once', async () => {
    const { client, links, types } = await connect('openssh', true);
    await client.symlink('t', 'l1');
    await client.symlink('t', 'l2');
    assert.deepEqual(types(), [T.SYMLINK, T.READLINK, T.SYMLINK]);
    assert.deepEqual(
      [...links],
      [
        ['l1', 't'],
        ['l2', 't'],
      ],
    );
    assert.deepEqual(client.symlinkOrder, { order: 'openssh', checked: true });
    await client.end();
  });

  test('an explicit order is sent as given and never checked', async () => {
    const { client, links, types } = await connect('openssh', true, { symlinkOrder: 'draft' });
    assert.deepEqual(client.symlinkOrder, { order: 'draft', checked: true });
    await client.symlink('t', 'l');
    assert.deepEqual(types(), [T.SYMLINK]);
    assert.deepEqual([...links], [['t', 'l']], 'the server took it its way: the user forced the order');
    await client.end();
  });

  test('a failed first SYMLINK rejects as before and leaves the order unchecked', async () => {
    const { client, links, types } = await connect('openssh', true);
    links.set('l', 'old');
    await assert.rejects(
      client.symlink('t', 'l'),
      (e: unknown) => e instanceof SftpError && e.status === StatusCode.FAILURE && e.op === 'symlink',
    );
    assert.deepEqual(types(), [T.SYMLINK]);
    assert.equal(client.symlinkOrder.checked, false);
    await client.symlink('t', 'l2');
    assert.deepEqual(types(), [T.SYMLINK, T.SYMLINK, T.READLINK]);
    assert.equal(client.symlinkOrder.checked, true);
    await client.end();
  });

  test('symlinks asked together wait for the check and all land right', async () => {
    const { client, links, types } = await connect('draft', true);
    await Promise.all([client.symlink('a', 'la'), client.symlink('b', 'lb'), client.symlink('c', 'lc')]);
    assert.deepEqual(Object.fromEntries(links), { la: 'a', lb: 'b', lc: 'c' });
    assert.equal(types().filter((t) => t === T.REMOVE).length, 1);
    assert.equal(types().filter((t) => t === T.READLINK).length, 2);
    await client.end();
  });

  test('property: whatever the server reads and announces, every link ends at its path pointing at its target', async () => {
    const name = fc.stringMatching(/^[a-z]{1,6}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Order>('openssh', 'draft'),
        fc.boolean(),
        fc.uniqueArray(fc.tuple(name, name), { minLength: 1, maxLength: 6, selector: ([, l]) => l }),
        async (reads, announces, pairs) => {
          // Link paths get a prefix no target has: a target's name is never also a link's.
          const wanted = pairs.map(([t, l]) => [t, `l-${l}`] as const);
          const { client, links } = await connect(reads, announces);
          for (const [t, l] of wanted) await client.symlink(t, l);
          await client.end();
          assert.deepEqual(Object.fromEntries(links), Object.fromEntries(wanted.map(([t, l]) => [l, t])));
          assert.equal(client.symlinkOrder.order, reads);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('SYMLINK order check against our server on disk', () => {
  for (const reads of ['draft', 'openssh'] as const) {
    test(`server reads ${reads} (announces @openssh.com extensions): the link is right on disk, nothing left at the target's name`, async () => {
      const root = mkdtempSync(path.join(tmpdir(), 'sftp-wire-symlink-check-'));
      try {
        const [a, b] = memoryPair();
        const served = new SftpServer({ root, symlinkOrder: reads }).serve(b).catch(() => undefined);
        const client = await SftpClient.fromStream(a);
        assert.equal(client.symlinkOrder.order, 'openssh', 'the guess from its extensions');
        await client.symlink('missing-target', '/link');
        assert.equal(readlinkSync(path.join(root, 'link')), 'missing-target');
        assert.equal(existsSync(path.join(root, 'missing-target')) || isLink(path.join(root, 'missing-target')), false);
        assert.deepEqual(client.symlinkOrder, { order: reads, checked: true });
        await client.end();
        await served;
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
