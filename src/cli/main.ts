import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';

/**
 * V8's interrupt budget for `serve`: how much a function runs before V8 considers optimizing it
 * (TurboFan). A `serve --stdio` process lives for one session, as OpenSSH's sftp-server does, and at
 * V8's default (132 KiB of budget) a few thousand small files make it compile, at once, most of the
 * request path: on SMALL (bench/server-small.ts, 2,000 files of 4 KiB) that compiling was about a third
 * of the server's CPU. With a budget about 8 times larger only what stays hot long enough (the loops
 * of a long transfer) is optimized, and later. Set before the server's modules load; the process is
 * ours (the library never sets V8 flags for the program that embeds it).
 */
export const SERVE_INTERRUPT_BUDGET = 1_000_000;

function tuneJitForServing(): void {
  v8.setFlagsFromString(`--interrupt-budget=${SERVE_INTERRUPT_BUDGET}`);
}

/** Each subcommand is a module exporting `run(args): Promise<number>` (the exit code). */
const commands: Record<string, { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }> = {
  serve: {
    summary: 'run an SFTP server (ssh2 on TCP, or --stdio)',
    load: () => {
      tuneJitForServing();
      return import('./serve.js');
    },
  },
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
