/**
 * `sftp-wire hash-password`: a password hash for a users file (see users-file.ts). On a terminal the
 * password is asked twice without echo; otherwise the first line of stdin is the password. The hash
 * goes to stdout; the password itself is never printed or taken from the command line.
 */
import { parseArgs } from 'node:util';
import { hashPassword } from '../transport/password-hash.js';
import { canPrompt, readHidden, PromptCancelled } from './prompt.js';

const HELP = `usage: sftp-wire hash-password

Prints a scrypt hash of a password, for a "password" line of a \`serve --users\` file. On a terminal
the password is asked twice (not echoed); otherwise the first line of stdin is read:
  printf '%s\\n' "$PASSWORD" | sftp-wire hash-password
`;

/** Limit on what is read from a non-terminal stdin (one line is needed). */
const MAX_INPUT = 64 * 1024;

function fail(message: string): number {
  process.stderr.write(`sftp-wire hash-password: ${message}\n`);
  return 2;
}

async function firstLineOfStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += (chunk as Buffer).toString('utf8');
    if (text.includes('\n') || text.length > MAX_INPUT) break;
  }
  const nl = text.indexOf('\n');
  return (nl >= 0 ? text.slice(0, nl) : text).replace(/\r$/, '');
}

export async function run(args: string[]): Promise<number> {
  let o;
  try {
    o = parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return fail(
      `${(err as Error).message} (the password is read from the terminal or stdin, never from the command line)\n\n${HELP}`,
    );
  }
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let password: string;
  try {
    if (canPrompt()) {
      password = await readHidden('Password: ');
      const again = await readHidden('Again: ');
      if (again !== password) return fail('the two passwords differ');
    } else {
      password = await firstLineOfStdin();
    }
  } catch (err) {
    if (err instanceof PromptCancelled) return fail(err.message);
    throw err;
  }
  if (password === '') return fail('empty password');
  process.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}
