import { parseArgs } from 'node:util';
import { isSftpUrl, parseSftpUrl } from '../client/url.js';
import { connectUrl } from './transfer.js';

const USAGE = `usage: sftp-wire ls [-l] [-a] [-i FILE] sftp://[user@]host[:port]/path

Entries are printed as they arrive (the listing is streamed, not collected first).
  -l    long format (the server's ls -l line)
  -a    include . and ..
  -i    private key (default: ssh-agent, then ~/.ssh/id_*)
`;

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
        identity: { type: 'string', short: 'i' },
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
  try {
    url = parseSftpUrl(positionals[0]!);
  } catch (err) {
    process.stderr.write(`sftp-wire ls: ${(err as Error).message}\n`);
    return 2;
  }
  const client = await connectUrl(url, { identity: v.identity });
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
