/**
 * The users file of `sftp-wire serve --users FILE`: who may log in, with what, and what each one sees.
 *
 *     # comment (blank lines too are ignored)
 *     user alice
 *       password $scrypt$ln=15,r=8,p=1$...$...     (from `sftp-wire hash-password`)
 *       key ssh-ed25519 AAAAC3Nza... alice@laptop  (an authorized_keys line; repeatable)
 *       root /srv/sftp/%u                          (%u: the user name, %%: %; relative: from --root)
 *       start-dir /incoming                        (inside the root)
 *       read-only
 *       atomic-uploads atomic                      (off | atomic | atomic-resume)
 *
 * A `user NAME` line starts a user; the lines after it, up to the next `user`, are that user's
 * (indenting them is optional). A user needs a password, a key, or both. Without `root` a user
 * gets --root itself; without read-only and atomic-uploads, the command line's. Every mistake is
 * reported with its line number.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseKey, type ParsedKey } from '../transport/keys.js';
import { parsePasswordHash, type ParsedPasswordHash } from '../transport/password-hash.js';
import type { AtomicUploadMode } from '../server/options.js';

export interface FileUser {
  name: string;
  /** The line of its `user` line. */
  line: number;
  password?: ParsedPasswordHash;
  keys: ParsedKey[];
  /** The real directory served as this user's "/". */
  root: string;
  startDir?: string;
  readOnly?: boolean;
  atomicUploads?: AtomicUploadMode;
}

export class UsersFileError extends Error {
  override readonly name = 'UsersFileError';
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(line > 0 ? `${file}, line ${line}: ${message}` : `${file}: ${message}`);
  }
}

/** User names usable in paths (%u) and log lines: letters, digits, ".", "_", "-"; not starting with "." or "-". */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const MODES: readonly string[] = ['off', 'atomic', 'atomic-resume'];
const KEYWORDS = ['user', 'password', 'key', 'root', 'start-dir', 'read-only', 'atomic-uploads'];

/** `%u` and `%%` in a root. */
function expandRoot(spec: string, name: string): string | { error: string } {
  let out = '';
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const next = spec[++i];
    if (next === 'u') out += name;
    else if (next === '%') out += '%';
    else return { error: `root ${spec}: unknown %${next ?? ''} (%u is the user name, %% a percent sign)` };
  }
  return out;
}

function parseKeyLine(text: string): ParsedKey | { error: string } {
  if (!/^(ssh-|ecdsa-|sk-)/.test(text)) {
    return {
      error:
        'key: expected an authorized_keys line starting with the key type (ssh-ed25519, ssh-rsa, ecdsa-...); options before the key are not supported',
    };
  }
  const parsed = parseKey(text);
  if (parsed instanceof Error) return { error: `key: not a public key (${parsed.message})` };
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key.isPrivateKey()) return { error: 'key: not a public key' };
  return key;
}

/** Parse the text of a users file; `baseRoot` is --root (the default root, and the base of relative ones). */
export function parseUsersFile(text: string, file: string, baseRoot: string): Map<string, FileUser> {
  const users = new Map<string, FileUser>();
  const fail = (line: number, message: string): never => {
    throw new UsersFileError(file, line, message);
  };
  type Draft = FileUser & { rootSpec?: string; rootLine?: number; startLine?: number };
  const drafts: Draft[] = [];
  let current: Draft | undefined;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line)!;
    const word = m[1]!;
    const arg = (m[2] ?? '').trim();
    if (!KEYWORDS.includes(word))
      fail(n, `unknown keyword ${JSON.stringify(word)} (expected one of ${KEYWORDS.join(', ')})`);
    if (word === 'user') {
      if (!NAME.test(arg))
        fail(
          n,
          `user: ${JSON.stringify(arg)} is not a valid user name (letters, digits, ".", "_", "-"; not starting with "." or "-"; at most 64)`,
        );
      const earlier = drafts.find((d) => d.name === arg);
      if (earlier) fail(n, `user ${arg} is already defined on line ${earlier.line}`);
      current = { name: arg, line: n, keys: [], root: baseRoot };
      drafts.push(current);
      return;
    }
    if (!current) return fail(n, `${word} before any "user NAME" line`);
    const u = current;
    const needArg = (): string => (arg === '' ? fail(n, `${word} needs a value`) : arg);
    switch (word) {
      case 'password': {
        if (u.password) fail(n, `user ${u.name} has a password already`);
        const h = parsePasswordHash(needArg());
        if ('error' in h) fail(n, `password: ${h.error}`);
        u.password = h as ParsedPasswordHash;
        break;
      }
      case 'key': {
        const k = parseKeyLine(needArg());
        if ('error' in k) fail(n, k.error);
        u.keys.push(k as ParsedKey);
        break;
      }
      case 'root':
        if (u.rootSpec !== undefined) fail(n, `user ${u.name} has a root already (line ${u.rootLine})`);
        u.rootSpec = needArg();
        u.rootLine = n;
        break;
      case 'start-dir':
        if (u.startDir !== undefined) fail(n, `user ${u.name} has a start-dir already`);
        u.startDir = needArg();
        u.startLine = n;
        break;
      case 'read-only':
        if (arg !== '') fail(n, 'read-only takes no value');
        u.readOnly = true;
        break;
      case 'atomic-uploads':
        if (!MODES.includes(needArg()))
          fail(n, `atomic-uploads must be one of ${MODES.join(', ')}, got ${JSON.stringify(arg)}`);
        u.atomicUploads = arg as AtomicUploadMode;
        break;
    }
  });
  if (drafts.length === 0) fail(0, 'no users (a "user NAME" line starts each one)');
  for (const d of drafts) {
    if (!d.password && d.keys.length === 0) fail(d.line, `user ${d.name} has neither a password nor a key`);
    if (d.rootSpec !== undefined) {
      const expanded = expandRoot(d.rootSpec, d.name);
      if (typeof expanded !== 'string') fail(d.rootLine!, expanded.error);
      d.root = path.resolve(baseRoot, expanded as string);
    }
    const where = d.rootLine ?? d.line;
    let st;
    try {
      st = statSync(d.root);
    } catch (err) {
      fail(
        where,
        `root ${d.root} of user ${d.name}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message}`,
      );
    }
    if (!st!.isDirectory()) fail(where, `root ${d.root} of user ${d.name} is not a directory`);
    if (d.startDir !== undefined) {
      const inside = path.posix.normalize('/' + d.startDir);
      let ok = false;
      try {
        ok = statSync(path.join(d.root, inside)).isDirectory();
      } catch {
        ok = false;
      }
      if (!ok) fail(d.startLine!, `start-dir ${d.startDir} is not a directory inside ${d.root}`);
      d.startDir = inside;
    }
    const { rootSpec: _a, rootLine: _b, startLine: _c, ...user } = d;
    users.set(d.name, user);
  }
  return users;
}

/** Read and parse a users file; errors (unreadable file, bad line) are UsersFileError. */
export function readUsersFile(file: string, baseRoot: string): Map<string, FileUser> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsersFileError(
      file,
      0,
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message,
    );
  }
  return parseUsersFile(text, file, baseRoot);
}
