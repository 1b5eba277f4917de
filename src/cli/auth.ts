/**
 * How the CLI logs in: an ssh2 authHandler that tries, in order, the key given with -i (or the
 * ssh-agent, then ~/.ssh/id_*), then a password (SFTP_WIRE_PASSWORD, else asked for on a terminal),
 * and keeps a record of what was tried, so that a refusal can say which user, which methods were
 * tried, which the server offers, and how to give a password.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { parseKey } from '../transport/keys.js';
import { PromptCancelled } from './prompt.js';
import type {
  AuthenticationType,
  AuthHandlerMiddleware,
  NextAuthHandler,
  ParsedKey,
  Prompt,
} from '../transport/ssh-client.js';

/** Asks the person at the terminal (no echo); undefined when nobody can be asked. */
export type Ask = (prompt: string) => Promise<string>;

/** Attempts at a password or passphrase on a terminal, as OpenSSH's NumberOfPasswordPrompts. */
export const PROMPT_TRIES = 3;

export interface AuthSources {
  username: string;
  /** host:port, for prompts and messages. */
  target: string;
  /** The key file given with -i: the only key tried. */
  identity?: string;
  /** ~/.ssh/id_* files that exist (tried after the agent when no -i). */
  defaultKeys?: string[];
  /** The ssh-agent socket (SSH_AUTH_SOCK), when no -i. */
  agent?: string;
  /** A password given for scripts (SFTP_WIRE_PASSWORD). */
  password?: string;
  /** The environment variable holding the passphrase of an encrypted key (--passphrase-env). */
  passphraseEnv?: string;
  ask?: Ask;
  env?: NodeJS.ProcessEnv;
}

/** Logging in failed: every method tried was refused, or none could be tried. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  readonly code = 'ERR_SSH_AUTH';
  constructor(
    message: string,
    readonly username: string,
    /** What was tried, in order ("publickey (~/.ssh/id_ed25519)", "password (SFTP_WIRE_PASSWORD)"). */
    readonly tried: string[],
    /** The methods the server said it accepts, when it said. */
    readonly offered: string[] | undefined,
  ) {
    super(message);
  }
}

/** A key file could not be used: unreadable, not a private key, or encrypted with no passphrase to hand. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  readonly code = 'ERR_KEY_FILE';
}

function tilde(file: string): string {
  const home = homedir();
  return home && file.startsWith(`${home}/`) ? `~${file.slice(home.length)}` : file;
}

function isEncryptedError(err: Error): boolean {
  return /no passphrase given/i.test(err.message);
}

function firstKey(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  if (parsed instanceof Error) return parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key ?? new Error('no key in the file');
}

/**
 * The private key in `file`, decrypted when it is encrypted: with the passphrase in the variable
 * `passphraseEnv` names, else asked for on the terminal (PROMPT_TRIES times). Throws a KeyFileError that
 * says what to do when it cannot be had.
 */
export async function loadPrivateKey(
  file: string,
  opts: Pick<AuthSources, 'passphraseEnv' | 'ask' | 'env'> = {},
): Promise<ParsedKey> {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new KeyFileError(`cannot read the key ${file}: ${(err as Error).message}`);
  }
  const plain = firstKey(parseKey(data));
  if (!(plain instanceof Error)) {
    if (!plain.isPrivateKey()) throw new KeyFileError(`${file} holds a public key; -i takes the private key file`);
    return plain;
  }
  if (!isEncryptedError(plain)) throw new KeyFileError(`cannot use the key ${file}: ${plain.message}`);
  const env = opts.env ?? process.env;
  if (opts.passphraseEnv !== undefined) {
    const passphrase = env[opts.passphraseEnv];
    if (passphrase === undefined)
      throw new KeyFileError(`the key ${file} is encrypted and ${opts.passphraseEnv} (--passphrase-env) is not set`);
    const key = firstKey(parseKey(data, passphrase));
    if (key instanceof Error)
      throw new KeyFileError(`the passphrase in ${opts.passphraseEnv} does not open the key ${file} (${key.message})`);
    return key;
  }
  if (!opts.ask) {
    throw new KeyFileError(
      `the key ${file} is encrypted and there is no terminal to ask for its passphrase on: ` +
        `put the passphrase in an environment variable and name it with --passphrase-env VAR`,
    );
  }
  for (let i = 0; i < PROMPT_TRIES; i++) {
    const passphrase = await opts.ask(`Enter passphrase for key '${tilde(file)}': `);
    const key = firstKey(parseKey(data, passphrase));
    if (!(key instanceof Error)) return key;
    process.stderr.write('Bad passphrase, try again.\n');
  }
  throw new KeyFileError(`the key ${file} was not opened: ${PROMPT_TRIES} wrong passphrases`);
}

type Step = (offered: AuthenticationType[] | undefined) => Promise<Parameters<NextAuthHandler>[0] | 'skip'>;

export interface CliAuth {
  /** For ssh2's ConnectConfig.authHandler. */
  handler: AuthHandlerMiddleware;
  /** What was tried so far. */
  readonly tried: string[];
  /** After a refused login: the error to show (which user, what was tried, how to give a password). */
  failure(): AuthenticationError;
}

/**
 * The authHandler for one connection. `identityKey` is the -i key, already loaded (an encrypted one
 * is opened before connecting, so that no prompt runs against the server's login timer). Prompts
 * run while the connection waits; `onPrompt(true|false)` brackets each so that the caller can stop
 * its own connect timer meanwhile.
 */
export function cliAuth(
  src: AuthSources,
  identityKey?: ParsedKey,
  onPrompt: (asking: boolean) => void = () => {},
): CliAuth {
  const tried: string[] = [];
  let offered: AuthenticationType[] | undefined;
  const username = src.username;
  const ask: Ask | undefined = src.ask
    ? async (p) => {
        onPrompt(true);
        try {
          return await src.ask!(p);
        } finally {
          onPrompt(false);
        }
      }
    : undefined;
  const allowed = (m: AuthenticationType): boolean => offered === undefined || offered.includes(m);
  const steps: Step[] = [];
  // 'none' first: the server's answer lists the methods it accepts (and a server may need no more).
  steps.push(async () => ({ type: 'none', username }));
  if (identityKey && src.identity) {
    steps.push(async () => {
      if (!allowed('publickey')) return 'skip';
      tried.push(`publickey (${tilde(src.identity!)})`);
      return { type: 'publickey', username, key: identityKey };
    });
  } else {
    if (src.agent) {
      steps.push(async () => {
        if (!allowed('publickey')) return 'skip';
        tried.push('publickey (ssh-agent)');
        return { type: 'agent', username, agent: src.agent! };
      });
    }
    for (const file of src.defaultKeys ?? []) {
      steps.push(async () => {
        if (!allowed('publickey')) return 'skip';
        let key: ParsedKey;
        try {
          key = await loadPrivateKey(file, { passphraseEnv: src.passphraseEnv, ask, env: src.env });
        } catch (err) {
          if (err instanceof PromptCancelled) throw err;
          const why = /encrypted/.test((err as Error).message) ? 'encrypted, no passphrase given' : 'unusable';
          tried.push(`publickey (${tilde(file)}: not used, ${why})`);
          return 'skip';
        }
        tried.push(`publickey (${tilde(file)})`);
        return { type: 'publickey', username, key };
      });
    }
  }
  const passwordPrompt = `${username}@${src.target}'s password: `;
  if (src.password !== undefined) {
    steps.push(async () => {
      if (!allowed('password')) return 'skip';
      tried.push('password (SFTP_WIRE_PASSWORD)');
      return { type: 'password', username, password: src.password! };
    });
  } else if (ask) {
    for (let i = 0; i < PROMPT_TRIES; i++) {
      steps.push(async () => {
        if (!allowed('password')) return 'skip';
        if (i > 0) process.stderr.write('Permission denied, please try again.\n');
        const password = await ask(passwordPrompt);
        tried.push(i === 0 ? 'password (typed)' : `password (typed, attempt ${i + 1})`);
        return { type: 'password', username, password };
      });
    }
  }
  // keyboard-interactive, as servers that take passwords only that way ask for them
  if (src.password !== undefined || ask) {
    steps.push(async () => {
      if (
        !allowed('keyboard-interactive') ||
        (offered?.includes('password') && tried.some((t) => t.startsWith('password')))
      )
        return 'skip';
      tried.push(
        src.password !== undefined ? 'keyboard-interactive (SFTP_WIRE_PASSWORD)' : 'keyboard-interactive (typed)',
      );
      return {
        type: 'keyboard-interactive',
        username,
        prompt: (
          _name: string,
          _instructions: string,
          _lang: string,
          prompts: Prompt[],
          finish: (answers: string[]) => void,
        ) => {
          void (async () => {
            const answers: string[] = [];
            for (const p of prompts) {
              if (!p.echo && src.password !== undefined) answers.push(src.password);
              else if (ask) answers.push(await ask(p.prompt || passwordPrompt).catch(() => ''));
              else answers.push('');
            }
            finish(answers);
          })();
        },
      };
    });
  }

  let next = 0;
  let cancelled: Error | undefined;
  const handler: AuthHandlerMiddleware = (authsLeft, _partial, callback) => {
    // an empty list says nothing (some servers send one after a refusal): keep the last one given
    if (Array.isArray(authsLeft) && authsLeft.length > 0) offered = authsLeft;
    void (async () => {
      while (next < steps.length) {
        const step = steps[next++]!;
        let method;
        try {
          method = await step(offered);
        } catch (err) {
          cancelled = err as Error; // a prompt cancelled: stop here
          break;
        }
        if (method !== 'skip') return callback(method);
      }
      (callback as unknown as (m: false) => void)(false); // ssh2: no more methods
    })();
  };

  return {
    handler,
    tried,
    failure() {
      if (cancelled)
        return Object.assign(new AuthenticationError(cancelled.message, username, tried, offered), {
          cause: cancelled,
        });
      const server = offered
        ? `the server accepts ${offered.filter((m) => m !== 'none').join(', ') || 'no method we know'}`
        : 'the server named no methods';
      const what = tried.length ? `tried ${tried.join(', ')}` : 'nothing to try (no key, no agent, no password)';
      const offersPassword =
        offered === undefined || offered.includes('password') || offered.includes('keyboard-interactive');
      const how = !offersPassword
        ? 'log in with a key: -i FILE, or an ssh-agent (SSH_AUTH_SOCK)'
        : src.ask
          ? 'check the user name and the password, or give a key with -i FILE'
          : 'to give a password, run on a terminal (it is asked for) or set SFTP_WIRE_PASSWORD; for a key, -i FILE or an ssh-agent';
      return new AuthenticationError(
        `authentication failed for user "${username}" at ${src.target}: ${what}; ${server}. ${how[0]!.toUpperCase()}${how.slice(1)}.`,
        username,
        tried,
        offered,
      );
    },
  };
}
