// One run of client-one-file.ts in a process of its own: connect to the sshd, move the file once to
// warm up, then once more timed; print {seconds, cpuSeconds} of the timed run as one JSON line.
// cpuSeconds is this process's user+system CPU during that run (the client alone: the server is
// another process).
//   node --import tsx bench/client-one-file-child.ts JSON-SPEC
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import ssh2 from 'ssh2';
import { RAW_SINK_COMMAND, rawSourceCommand } from './contenders/jobs.js';

interface Spec {
  /** get/put: sftp-wire's client from `src` (an index.ts); raw-down/raw-up: ssh2's channel alone. */
  op: 'get' | 'put' | 'raw-down' | 'raw-up';
  src: string;
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
  cipher: string;
  remote: string;
  local: string;
  size: number;
}

interface Client {
  get(remote: string, local: string): Promise<unknown>;
  put(local: string, remote: string): Promise<unknown>;
  end(): Promise<void>;
}

const spec = JSON.parse(process.argv[2]!) as Spec;

function connect(): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const conn = new ssh2.Client();
    conn.once('ready', () => {
      conn.setNoDelay(true);
      resolve(conn);
    });
    conn.once('error', reject);
    conn.connect({
      host: spec.host,
      port: spec.port,
      username: spec.username,
      privateKey: readFileSync(spec.privateKeyPath),
      algorithms: { cipher: [spec.cipher as ssh2.CipherAlgorithm] },
      readyTimeout: 20_000,
    });
  });
}

function exec(conn: ssh2.Client, command: string): Promise<ssh2.ClientChannel> {
  return new Promise((resolve, reject) => conn.exec(command, (err, ch) => (err ? reject(err) : resolve(ch))));
}

async function rawDown(conn: ssh2.Client): Promise<void> {
  const ch = await exec(conn, rawSourceCommand(spec.size));
  ch.stderr.resume();
  let got = 0;
  await new Promise<void>((resolve) => {
    ch.on('data', (d: Buffer) => (got += d.length));
    ch.once('close', () => resolve());
  });
  if (got !== spec.size) throw new Error(`raw channel delivered ${got} bytes, expected ${spec.size}`);
}

async function rawUp(conn: ssh2.Client): Promise<void> {
  const ch = await exec(conn, RAW_SINK_COMMAND);
  const closed = new Promise<void>((resolve) => ch.once('close', () => resolve()));
  ch.stderr.resume();
  await new Promise<void>((resolve) => ch.once('data', () => resolve())); // "ready"
  ch.resume();
  const block = Buffer.alloc(256 * 1024, 0x5a);
  for (let left = spec.size; left > 0; left -= block.length) {
    const n = Math.min(left, block.length);
    if (!ch.write(n === block.length ? block : block.subarray(0, n)))
      await new Promise<void>((r) => ch.once('drain', r));
  }
  ch.end();
  await closed;
}

async function main(): Promise<void> {
  const conn = await connect();
  let client: Client | undefined;
  if (spec.op === 'get' || spec.op === 'put') {
    const mod = (await import(spec.src)) as { SftpClient: { fromSsh(c: ssh2.Client): Promise<Client> } };
    client = await mod.SftpClient.fromSsh(conn);
  }
  const once = async () => {
    if (spec.op === 'get') await client!.get(spec.remote, spec.local);
    else if (spec.op === 'put') await client!.put(spec.local, spec.remote);
    else if (spec.op === 'raw-down') await rawDown(conn);
    else await rawUp(conn);
  };
  await once(); // warm-up: code compiled, buffers and page cache in place
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await once();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await client?.end();
  conn.end();
  process.stdout.write(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`client-one-file-child: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
