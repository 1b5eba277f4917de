/**
 * Authentication for the SSH server: the hook the embedding code gives (async, deciding from a
 * database or a file), and the driver that runs it for each attempt of one connection. The driver
 * verifies public-key signatures itself, counts failures, and treats a hook that throws as a refusal;
 * a hook that never settles holds only its own connection, which the login grace closes.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AuthContext, KeyboardAuthContext, ParsedKey, PublicKeyAuthContext } from 'ssh2';
import { fingerprint } from './known-hosts.js';
import { ssh2Lib } from './ssh2-lib.js';

export type AuthMethod = 'password' | 'publickey' | 'keyboard-interactive';
export const AUTH_METHODS: readonly AuthMethod[] = ['publickey', 'password', 'keyboard-interactive'];

/** Where an attempt comes from. */
export interface AuthAttemptBase {
  /** The user name the client asked to log in as. */
  username: string;
  remoteAddress: string;
  remotePort: number;
}

export interface PasswordAttempt extends AuthAttemptBase {
  method: 'password';
  password: string;
}

/** A public key a client offered. */
export interface OfferedKey {
  /** Key type: "ssh-ed25519", "ssh-rsa" (also for rsa-sha2-256/512 signatures), "ecdsa-sha2-nistp256"... */
  algo: string;
  /** The public key in SSH wire format (what an authorized_keys line holds in base64). */
  data: Buffer;
  /** As an authorized_keys line without options or comment: "ssh-ed25519 AAAA...". */
  openssh: string;
  /** "SHA256:..." as `ssh-keygen -l` shows it. */
  fingerprint: string;
}

/**
 * A public key. The hook is asked when the client offers the key (before it proves it holds the
 * private key, as sshd reads authorized_keys); the login happens only after the server has verified
 * the client's signature with that key. Within one connection the answer for a user and key is
 * asked once.
 */
export interface PublicKeyAttempt extends AuthAttemptBase {
  method: 'publickey';
  key: OfferedKey;
}

export interface KeyboardPrompt {
  prompt: string;
  /** Show what is typed (default false: a secret). */
  echo?: boolean;
}

/**
 * Keyboard-interactive: the hook asks its questions with `prompt` (a password, a one-time code...)
 * and decides from the answers. `prompt` rejects when the client gives up or the connection ends.
 */
export interface KeyboardInteractiveAttempt extends AuthAttemptBase {
  method: 'keyboard-interactive';
  prompt(questions: KeyboardPrompt[], text?: { title?: string; instructions?: string }): Promise<string[]>;
}

export type AuthAttempt = PasswordAttempt | PublicKeyAttempt | KeyboardInteractiveAttempt;

/** The hook's answer: an identity (any value but undefined, null and false) logs in; anything else refuses. */
export type AuthVerdict<Id> = Id | undefined | null | false;

/**
 * Decide one authentication attempt. `signal` is aborted when the connection closes (the client left,
 * or the login grace ran out): the answer is not needed any more. Throwing (or rejecting) refuses the
 * attempt and is logged.
 */
export type AuthHook<Id> = (attempt: AuthAttempt, signal: AbortSignal) => AuthVerdict<Id> | Promise<AuthVerdict<Id>>;

/** Why a login attempt failed, as the 'loginFailed' event tells it. */
export type LoginFailure =
  /** The hook refused (or, for fixed users, the password or key is not theirs). */
  | 'rejected'
  /** The hook threw or rejected. */
  | 'error'
  /** The public key's signature did not verify. */
  | 'bad-signature'
  /** A method this server does not offer, or a key it cannot parse. */
  | 'unsupported';

export interface AuthOutcome<Id> {
  login(method: AuthMethod, username: string, identity: Id): void;
  failed(method: string, username: string, reason: LoginFailure): void;
}

/** Public keys from authorized_keys lines (options before the key are skipped; bad lines ignored). */
export function parsePublicKeys(lines: readonly string[]): ParsedKey[] {
  const out: ParsedKey[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const at = line.search(/(ssh-|ecdsa-|sk-)/);
    const parsed = ssh2Lib().utils.parseKey(at > 0 ? line.slice(at) : line);
    if (!(parsed instanceof Error)) out.push(Array.isArray(parsed) ? parsed[0]! : parsed);
  }
  return out;
}

export function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether an offered key is one of `keys` (parsed keys, or authorized_keys lines). */
export function keyMatches(key: OfferedKey, keys: readonly (ParsedKey | string)[]): boolean {
  const parsed = keys.flatMap((k) => (typeof k === 'string' ? parsePublicKeys([k]) : [k]));
  return parsed.some((k) => k.type === key.algo && sameBytes(k.getPublicSSH(), key.data));
}

function offeredKey(algo: string, data: Buffer): OfferedKey {
  return {
    algo,
    data,
    openssh: `${algo} ${data.toString('base64')}`,
    fingerprint: fingerprint(data),
  };
}

/**
 * Runs the authentication attempts of one connection through `hook`, one at a time as ssh2 hands
 * them over. `offered` are the methods named to the client as the ones that can continue.
 */
export class AuthDriver<Id> {
  /** The identity of the login, once one succeeded, and the user name it logged in as. */
  identity: Id | undefined;
  username: string | undefined;
  failures = 0;
  /** Public keys the hook accepted when offered: username + key -> identity (asked once per connection). */
  private readonly accepted = new Map<string, Id>();

  constructor(
    private readonly hook: AuthHook<Id>,
    private readonly offered: AuthMethod[],
    private readonly from: { address: string; port: number },
    private readonly signal: AbortSignal,
    private readonly outcome: AuthOutcome<Id>,
    private readonly log: (m: string) => void,
  ) {}

  /** Handle one attempt (ssh2's 'authentication' event). Never throws. */
  handle(ctx: AuthContext): void {
    void this.run(ctx).catch((err: unknown) => this.log(`authentication: ${(err as Error)?.message ?? String(err)}`));
  }

  private async run(ctx: AuthContext): Promise<void> {
    const method = ctx.method as string;
    if (method === 'none' || method === 'hostbased') {
      // "none" asks what is allowed; neither counts as a failure
      ctx.reject(this.offered);
      return;
    }
    if (!(this.offered as string[]).includes(method)) return this.fail(ctx, 'unsupported');
    const base = { username: ctx.username, remoteAddress: this.from.address, remotePort: this.from.port };
    if (ctx.method === 'password') {
      const v = await this.ask({ ...base, method: 'password', password: ctx.password });
      if (v.gone) return;
      return v.identity !== undefined ? this.succeed(ctx, v.identity) : this.fail(ctx, v.reason);
    }
    if (ctx.method === 'publickey') return this.publicKey(ctx, base);
    if (ctx.method === 'keyboard-interactive') return this.keyboard(ctx, base);
    return this.fail(ctx, 'unsupported');
  }

  private async publicKey(ctx: PublicKeyAuthContext, base: AuthAttemptBase): Promise<void> {
    const parsed = ssh2Lib().utils.parseKey(ctx.key.data);
    const key = parsed instanceof Error ? undefined : Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key || key.type !== ctx.key.algo) return this.fail(ctx, 'unsupported');
    if (ctx.signature && ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true)
      return this.fail(ctx, 'bad-signature');
    const cacheKey = `${ctx.username}\0${ctx.key.algo}\0${ctx.key.data.toString('base64')}`;
    let identity = this.accepted.get(cacheKey);
    if (identity === undefined) {
      const v = await this.ask({ ...base, method: 'publickey', key: offeredKey(ctx.key.algo, ctx.key.data) });
      if (v.gone) return;
      if (v.identity === undefined) return this.fail(ctx, v.reason);
      identity = v.identity;
      this.accepted.set(cacheKey, identity);
    }
    if (!ctx.signature) {
      ctx.accept(); // only "this key would do": the client signs next
      return;
    }
    this.succeed(ctx, identity);
  }

  private async keyboard(ctx: KeyboardAuthContext, base: AuthAttemptBase): Promise<void> {
    let aborted = false;
    ctx.once('abort', () => (aborted = true));
    const prompt = (
      questions: KeyboardPrompt[],
      text: { title?: string; instructions?: string } = {},
    ): Promise<string[]> =>
      new Promise((resolve, reject) => {
        if (aborted || this.signal.aborted) return reject(new Error('the client gave up this authentication'));
        const onGone = (): void => reject(new Error('the connection closed'));
        this.signal.addEventListener('abort', onGone, { once: true });
        const qs = questions.map((q) => ({ prompt: q.prompt, echo: q.echo ?? false }));
        ctx.prompt(qs, text.title ?? '', text.instructions ?? '', (answers: string[] | Error) => {
          this.signal.removeEventListener('abort', onGone);
          if (answers instanceof Error) reject(answers);
          else resolve(answers);
        });
      });
    const v = await this.ask({ ...base, method: 'keyboard-interactive', prompt });
    if (v.gone || aborted) return; // the client started another attempt: this one no longer counts
    return v.identity !== undefined ? this.succeed(ctx, v.identity) : this.fail(ctx, v.reason);
  }

  /** The hook's answer, or `gone` when the connection closed first. */
  private async ask(
    attempt: AuthAttempt,
  ): Promise<{ gone: true } | { gone: false; identity: Id | undefined; reason: LoginFailure }> {
    if (this.signal.aborted) return { gone: true };
    let stop!: () => void;
    const closed = new Promise<'gone'>((resolve) => {
      stop = () => resolve('gone');
      this.signal.addEventListener('abort', stop, { once: true });
    });
    try {
      const answer = await Promise.race([Promise.resolve().then(() => this.hook(attempt, this.signal)), closed]);
      if (answer === 'gone' || this.signal.aborted) return { gone: true };
      const ok = answer !== undefined && answer !== null && answer !== false;
      return { gone: false, identity: ok ? (answer as Id) : undefined, reason: 'rejected' };
    } catch (err) {
      if (this.signal.aborted) return { gone: true };
      this.log(
        `authentication hook failed (${attempt.method} for ${JSON.stringify(attempt.username)}): ${(err as Error)?.message ?? String(err)}`,
      );
      return { gone: false, identity: undefined, reason: 'error' };
    } finally {
      this.signal.removeEventListener('abort', stop);
    }
  }

  private succeed(ctx: AuthContext, identity: Id): void {
    if (this.signal.aborted) return;
    this.identity = identity;
    this.username = ctx.username;
    ctx.accept();
    this.outcome.login(ctx.method as AuthMethod, ctx.username, identity);
  }

  private fail(ctx: AuthContext, reason: LoginFailure): void {
    if (this.signal.aborted) return;
    this.failures++;
    ctx.reject(this.offered); // the methods that can continue (RFC 4252), not an empty list
    this.outcome.failed(ctx.method, ctx.username, reason);
  }
}
