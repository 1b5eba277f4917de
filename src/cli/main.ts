import { pathToFileURL } from 'node:url';

/** Each subcommand is a module exporting `run(args): Promise<number>` (the exit code). */
const commands: Record<string, { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }> = {
  serve: { summary: 'run an SFTP server (ssh2 on TCP, or --stdio)', load: () => import('./serve.js') },
  'hash-password': {
    summary: 'hash a password for a serve --users file (read from the terminal or stdin)',
    load: () => import('./hash-password.js'),
  },
  put: {
    summary: 'upload: put [-r] [--atomic] [--resume] SRC sftp://[user@]host[:port]/path',
    load: () => import('./transfer.js'),
  },
  get: { summary: 'download: get [-r] [--atomic] [--resume] sftp://... DST', load: () => import('./transfer.js') },
  ls: { summary: 'list a remote directory: ls sftp://[user@]host[:port]/path', load: () => import('./ls.js') },
  bench: { summary: 'run the bench suite against an embedded server', load: () => import('./bench.js') },
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(13)} ${c.summary}`);
  return `usage: sftp-wire <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'sftp-wire <command> --help' for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`sftp-wire: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  const mod = await cmd.load();
  // put and get share a module; it needs to know which one was asked for.
  return mod.run(name === 'put' || name === 'get' ? [name, ...rest] : rest);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`sftp-wire: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
