import { readdirSync } from 'node:fs';
import { tempDir } from '../support/temp-dir.js';
import { spawnSftpServer, type SpawnedSftpServer } from '../../bench/lib/peers/openssh.js';
import { SftpClient, type ClientOptions } from '../../src/client/index.js';

export interface OpenSshFixture {
  dir: string;
  server: SpawnedSftpServer;
  client: SftpClient;
  /** Open file descriptors of the sftp-server process (to see handles closed). */
  openFds(): number;
  close(): Promise<void>;
}

/** A temporary directory, OpenSSH's sftp-server on stdio working in it, and our client connected. */
export async function openSsh(
  opts: { args?: string[]; client?: ClientOptions; dir?: string } = {},
): Promise<OpenSshFixture> {
  const temp = opts.dir === undefined ? tempDir('sftp-wire-client-') : undefined;
  const dir = opts.dir ?? temp!.dir;
  const server = spawnSftpServer({ cwd: dir, args: opts.args });
  const client = await SftpClient.fromStream(server.stream, opts.client);
  return {
    dir,
    server,
    client,
    openFds: () => readdirSync(`/proc/${server.child.pid}/fd`).length,
    async close() {
      await client.end().catch(() => {});
      await server.close();
      temp?.cleanup();
    },
  };
}

/** Rejection of a promise, as a value (fails when it resolves). */
export async function rejectionOf(
  p: Promise<unknown>,
): Promise<Error & { code?: string; status?: number; path?: string; op?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection, got a result');
}
