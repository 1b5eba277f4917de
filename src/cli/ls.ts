import { parseArgs } from 'node:util';
import { isSftpUrl, parseSftpUrl, type SftpClient } from '../index.js';
import { CONNECT_OPTIONS, CONNECT_USAGE, connectUrl, parseHostKeyCheck, type HostKeyCheck } from './connect.js';

const USAGE = `usage: sftp-wire ls [-l] [-a] [-i FILE] [--passphrase-env VAR] sftp://[user@]host[:port]/path

Entries are printed as they arrive (the listing is streamed, not collected first).
  -l               long format (the server's ls -l line)
  -a               include . and ..
${CONNECT_USAGE}`;

/** `sftp-wire ls URL`. Returns the exit code. */
export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        long: { type: 'boolean', short: 'l' },
        all: { type: 'boolean', short: 'a' },
        ...CONNECT_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`sftp-wire ls: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || !isSftpUrl(positionals[0]!)) {
    process.stderr.write(USAGE);
    return 2;
  }
  let url;
  let hostKeyCheck: HostKeyCheck;
  try {
    url = parseSftpUrl(positionals[0]!);
    hostKeyCheck = parseHostKeyCheck(v['host-key-check']);
  } catch (err) {
    process.stderr.write(`sftp-wire ls: ${(err as Error).message}\n`);
    return 2;
  }
  let client: SftpClient;
  try {
    client = await connectUrl(url, {
      identity: v.identity,
      passphraseEnv: v['passphrase-env'],
      knownHosts: v['known-hosts'],
      hostKeyCheck,
    });
  } catch (err) {
    process.stderr.write(`sftp-wire ls: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    for await (const e of client.scandir(url.path)) {
      if (!v.all && (e.filename === '.' || e.filename === '..')) continue;
      process.stdout.write(`${v.long ? e.longname || e.filename : e.filename}\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`sftp-wire ls: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await client.end();
  }
}
