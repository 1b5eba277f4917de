/**
 * An SFTP-over-SSH server in its own process for the load test, so that its memory is measured alone.
 * Started with fork(); prints nothing; talks over IPC:
 *   <- { hello: true }                (listening for messages)
 *   -> { root, publicKey }            (configuration)
 *   <- { ready: true, port }
 *   -> { cmd: 'stats' }               <- { rss, peakRss, heapUsed, active, peakActive, sessions, openHandles, filesOpened, dirsOpened, maxRunning }
 *   -> { cmd: 'close' }               <- { closed: true } and the process exits
 */
import { generateEd25519KeyPair } from '../../src/transport/keys.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { startSftpSshServer } from '../../src/transport/ssh-server.js';
import { CountingFs } from '../../bench/lib/peers/counting-fs.js';

interface Config {
  root: string;
  publicKey: string;
}

const send = (m: unknown): void => void process.send?.(m);

process.once('message', async (cfg: Config) => {
  process.on('message', (m: { cmd?: string }) => void onCommand(m));
  const fs = new CountingFs(new LocalFs(cfg.root));
  const server = new SftpServer({ fs });
  let active = 0;
  let peakActive = 0;
  let sessions = 0;
  const serve = server.serve.bind(server);
  server.serve = (stream, opts) => {
    active++;
    sessions++;
    peakActive = Math.max(peakActive, active);
    return serve(stream, opts).finally(() => active--);
  };
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
  const host = generateEd25519KeyPair();
  const running = await startSftpSshServer({
    server,
    hostKeys: [host.private],
    users: [{ username: 'load', publicKeys: [cfg.publicKey] }],
  });
  send({ ready: true, port: running.port });
  async function onCommand(m: { cmd?: string }): Promise<void> {
    if (m.cmd === 'stats') {
      const mem = process.memoryUsage();
      peakRss = Math.max(peakRss, mem.rss);
      send({
        rss: mem.rss,
        peakRss,
        heapUsed: mem.heapUsed,
        active,
        peakActive,
        sessions,
        openHandles: fs.openHandles,
        filesOpened: fs.filesOpened,
        dirsOpened: fs.dirsOpened,
        maxRunning: fs.maxRunning,
      });
    } else if (m.cmd === 'close') {
      clearInterval(sampler);
      await running.close();
      send({ closed: true });
      process.disconnect();
    }
  }
});
send({ hello: true });
