/**
 * The embedded peer, in its own process: sftp-wire's SftpServer behind the project's ssh2 helper
 * (startSftpSshServer, as `sftp-wire serve` runs it), plus a second ssh2 Server in the same process
 * that only answers the two raw-channel commands of the limit measurement (a sink and a zero source),
 * so the limit is measured over the same transport. Both accept one public key, with a generated
 * host key, on loopback.
 *
 * Run as a child (`node --import tsx bench/suite/embedded-server.ts ROOT AUTHORIZED_KEYS_FILE`): it prints
 * one JSON line {"port": N, "rawPort": M} once both listen, and exits when its stdin closes.
 */
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import ssh2 from 'ssh2';
import { CIPHER, RAW_SINK_COMMAND, parseRawSource } from '../contenders/jobs.js';
import { SftpServer, generateEd25519KeyPair, startSftpSshServer } from '../../src/index.js';

export interface EmbeddedServers {
  port: number;
  rawPort: number;
  close(): Promise<void>;
}

/** The raw-channel server: exec of RAW_SINK_COMMAND or `head -c N /dev/zero`, nothing else. */
export function startRawChannelServer(
  authorizedKey: Buffer,
  hostKey: string | Buffer,
): Promise<{ port: number; close(): Promise<void> }> {
  const parsed = ssh2.utils.parseKey(authorizedKey);
  if (parsed instanceof Error) throw parsed;
  const allowed = Array.isArray(parsed) ? parsed[0]! : parsed;
  const pub = allowed.getPublicSSH();
  const clients = new Set<ssh2.Connection>();
  const ssh = new ssh2.Server({ hostKeys: [hostKey], algorithms: { cipher: [CIPHER] } }, (client) => {
    clients.add(client);
    (client as unknown as { setNoDelay?(on: boolean): void }).setNoDelay?.(true);
    client.on('error', () => undefined);
    client.on('close', () => clients.delete(client));
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      if (ctx.key.algo !== allowed.type || ctx.key.data.length !== pub.length || !timingSafeEqual(ctx.key.data, pub))
        return ctx.reject();
      if (ctx.signature && ctx.blob && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true)
        return ctx.reject();
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (accept, reject, info) => {
          const n = parseRawSource(info.command);
          if (info.command === RAW_SINK_COMMAND) {
            const ch = accept();
            ch.write('ready\n');
            ch.on('data', () => undefined);
            ch.on('end', () => {
              ch.exit(0);
              ch.end();
            });
          } else if (n !== null) {
            const ch = accept();
            sendZeros(ch, n).then(
              () => {
                ch.exit(0);
                ch.end();
              },
              () => ch.destroy(),
            );
          } else {
            reject?.();
          }
        });
      });
    });
  });
  return new Promise((resolve, reject) => {
    ssh.once('error', reject);
    ssh.listen(0, '127.0.0.1', () => {
      resolve({
        port: (ssh.address() as { port: number }).port,
        close: () =>
          new Promise<void>((done) => {
            for (const c of clients) c.end();
            ssh.close(() => done());
          }),
      });
    });
  });
}

async function sendZeros(ch: ssh2.ServerChannel, bytes: number): Promise<void> {
  const block = Buffer.alloc(256 * 1024);
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, block.length);
    left -= n;
    if (!ch.write(n === block.length ? block : block.subarray(0, n)))
      await new Promise<void>((r) => ch.once('drain', r));
  }
}

export async function startEmbeddedServers(root: string, authorizedKeysFile: string): Promise<EmbeddedServers> {
  const hostKey = generateEd25519KeyPair().private;
  const sftp = await startSftpSshServer({ server: new SftpServer({ root }), hostKeys: [hostKey], authorizedKeysFile });
  const raw = await startRawChannelServer(readFileSync(authorizedKeysFile), hostKey);
  return {
    port: sftp.port,
    rawPort: raw.port,
    close: async () => {
      await Promise.all([sftp.close(), raw.close()]);
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [root, keysFile] = process.argv.slice(2);
  if (!root || !keysFile) {
    process.stderr.write('usage: embedded-server.ts ROOT AUTHORIZED_KEYS_FILE\n');
    process.exit(2);
  }
  startEmbeddedServers(root, keysFile).then(
    (srv) => {
      process.stdout.write(JSON.stringify({ port: srv.port, rawPort: srv.rawPort }) + '\n');
      process.stdin.resume();
      process.stdin.on('end', () => {
        srv.close().finally(() => process.exit(0));
      });
    },
    (err: unknown) => {
      process.stderr.write(`embedded server: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
