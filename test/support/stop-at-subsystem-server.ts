/**
 * An SSH server process that freezes itself (SIGSTOP) the moment it has granted the `sftp` subsystem:
 * the client's connection is ready and its channel open, but the SFTP INIT it sends next stays unread.
 * A SIGKILL then makes the kernel answer those unread bytes with a reset: a loss after the SSH
 * handshake and before the SFTP one. Run as
 *   node --import tsx stop-at-subsystem-server.ts USERNAME PASSWORD
 * Prints {"port":N} once listening and {"freezing":true} right before it stops itself.
 */
import ssh2 from 'ssh2';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';

const [username, password] = process.argv.slice(2);
const tell = (m: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(m)}\n`);

const server = new ssh2.Server({ hostKeys: [generateEd25519KeyPair().private] }, (client) => {
  client.on('error', () => undefined);
  client.on('authentication', (ctx) => {
    if (ctx.method === 'password' && ctx.username === username && ctx.password === password) ctx.accept();
    else ctx.reject(['password']);
  });
  client.on('ready', () => {
    client.on('session', (acceptSession) => {
      acceptSession().on('subsystem', (grant) => {
        grant();
        // Let the grant reach the socket, then freeze before the INIT behind it can be read.
        setImmediate(() => {
          tell({ freezing: true });
          process.kill(process.pid, 'SIGSTOP');
        });
      });
    });
  });
});
server.listen(0, '127.0.0.1', () => tell({ port: (server.address() as { port: number }).port }));
