/**
 * Round trips of the tree operations, counted rather than timed: putTree, getTree and rmtree of a few
 * tree shapes through a lockstep link (lib/lockstep-link.ts), against sftp-wire's own server (in
 * process, over a loopback socket) or OpenSSH's sftp-server (stdio). A count is how many times the
 * client had to wait for replies before it could send more: at RTT r a tree costs at least count x r.
 *
 *   node --import tsx bench/tree-rounds.ts [--server sftp-wire|openssh] [--verbose]
 *
 * Shapes: SMALL-200 (200 x 4 KiB in 20 directories), wide (20 directories x 5 files), deep (a chain 20
 * deep, 2 files each). --verbose prints what each round carried.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { SftpClient } from '../src/client/index.js';
import { getTree, putTree, rmtree } from '../src/client/tree/index.js';
import { packetTypeName } from '../src/protocol/index.js';
import { SftpServer } from '../src/server/index.js';
import { generateTreeShape, TREE_SHAPES, type TreeShape } from './lib/dataset.js';
import { LockstepLink } from './lib/lockstep-link.js';
import { spawnSftpServer } from './lib/peers/openssh.js';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: 'sftp-wire' },
    verbose: { type: 'boolean', default: false },
    'quiet-ms': { type: 'string', default: '25' },
  },
});

const SHAPES: Array<{ name: string; shape: TreeShape }> = [
  { name: 'SMALL-200 (200 x 4 KiB, 20 dirs)', shape: { kind: 'wide', dirs: 20, filesPerDir: 10, size: 4096 } },
  { name: 'wide (20 dirs x 5 files)', shape: TREE_SHAPES.wide },
  { name: 'deep (chain of 20, 2 files each)', shape: TREE_SHAPES.deep },
];

interface Connected {
  client: SftpClient;
  remote(p: string): string;
  close(): Promise<void>;
}

async function connect(link: LockstepLink, base: string): Promise<Connected> {
  if (values.server === 'openssh') {
    const server = spawnSftpServer();
    const client = await SftpClient.fromStream(link.wrap(server.stream));
    return {
      client,
      remote: (p) => p,
      async close() {
        await client.end().catch(() => {});
        await server.close();
      },
    };
  }
  if (values.server !== 'sftp-wire') throw new Error(`--server: sftp-wire or openssh, got ${values.server}`);
  const sftp = new SftpServer({ root: base });
  const served: Array<Promise<void>> = [];
  const net = createServer((sock) => {
    sock.setNoDelay(true);
    served.push(sftp.serve(sock).catch(() => {}));
  });
  await new Promise<void>((r) => net.listen(0, '127.0.0.1', () => r()));
  const sock = createConnection({ port: (net.address() as { port: number }).port, host: '127.0.0.1' });
  sock.setNoDelay(true);
  await new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('error', j);
  });
  const client = await SftpClient.fromStream(link.wrap(sock));
  return {
    client,
    remote: (p) => '/' + relative(base, p),
    async close() {
      await client.end().catch(() => {});
      sock.destroy();
      await Promise.all(served);
      await new Promise<void>((r) => net.close(() => r()));
    },
  };
}

function rounds(link: LockstepLink): string {
  return link.log
    .map((m, i) => `    ${i + 1}: ${[...m].map(([t, n]) => `${n} ${packetTypeName(t)}`).join(', ')}`)
    .join('\n');
}

async function main(): Promise<void> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'sftp-wire-tree-rounds-')));
  const link = new LockstepLink({ quietMs: Number(values['quiet-ms']) });
  const peer = await connect(link, base);
  console.log(
    `round trips of tree operations against ${values.server === 'openssh' ? 'OpenSSH sftp-server' : 'sftp-wire server'}`,
  );
  try {
    for (const { name, shape } of SHAPES) {
      const src = join(base, 'src');
      generateTreeShape(src, 20240601, shape);
      const counts: string[] = [];
      const op = async (what: string, f: () => Promise<unknown>) => {
        link.reset();
        await f();
        counts.push(`${what} ${link.rounds}`);
        if (values.verbose) console.log(`  ${name} ${what}:\n${rounds(link)}`);
      };
      await op('putTree', () => putTree(peer.client, src, peer.remote(join(base, 'up'))));
      await op('getTree', () => getTree(peer.client, peer.remote(join(base, 'up')), join(base, 'down')));
      await op('rmtree', () => rmtree(peer.client, peer.remote(join(base, 'up'))));
      console.log(`${name.padEnd(36)} ${counts.join('   ')}`);
      for (const d of ['src', 'down']) rmSync(join(base, d), { recursive: true, force: true });
    }
  } finally {
    await peer.close();
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
