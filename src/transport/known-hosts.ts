/**
 * OpenSSH known_hosts files: parse them, find the lines for a host, and decide whether a server's host
 * key is known, unknown, changed or revoked. Host fields may be plain patterns (comma lists, `!`
 * negation, `*` and `?` wildcards, `[host]:port` for ports other than 22) or hashed (`|1|salt|hash`,
 * HMAC-SHA1 of the name keyed by the salt). `@revoked` lines refuse a key; `@cert-authority` lines are
 * ignored (certificates are not supported).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written: a comma list of patterns, or one `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** The key blob (SSH wire format: string type, then the key's fields). */
  key: Buffer;
}

export type HostKeyStatus =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry }
  /** The host has keys on file, none of them this one; `entry` is the one to name (same key type first). */
  | { status: 'changed'; entry: KnownHostEntry; entries: KnownHostEntry[] }
  | { status: 'unknown' };

/** The name a host is filed under: `host` for port 22, `[host]:port` otherwise (lower case). */
export function knownHostName(host: string, port = 22): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** The key type named inside a key blob (its first SSH string), or undefined when malformed. */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || 4 + n > blob.length) return undefined;
  return blob.toString('latin1', 4, 4 + n);
}

/** OpenSSH's fingerprint of a key blob: `SHA256:` and unpadded base64. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Parse the text of a known_hosts file. Comments, blank and malformed lines are left out. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i]!.trim().split(/[ \t]+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) continue;
    let marker: KnownHostEntry['marker'];
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue; // an unknown marker: OpenSSH skips the line
    }
    if (fields.length < 3) continue;
    const [hosts, keyType, b64] = fields as [string, string, string];
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const key = Buffer.from(b64, 'base64');
    if (keyTypeOf(key) !== keyType) continue;
    const entry: KnownHostEntry = { file, line: i + 1, hosts, keyType, key };
    if (marker) entry.marker = marker;
    out.push(entry);
  }
  return out;
}

/** `*` any run of characters, `?` one character, everything else literal; case-insensitive. */
export function wildcardMatch(name: string, pattern: string): boolean {
  const s = name.toLowerCase();
  const p = pattern.toLowerCase();
  // Iterative matcher with backtracking to the last '*': linear-ish, no regex built from input.
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === s[si]))) {
      si++;
      pi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** A hashed host field `|1|salt|hash`: HMAC-SHA1(key = salt, data = name) equals hash. */
function hashedMatch(field: string, name: string): boolean {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const hash = Buffer.from(parts[3]!, 'base64');
  if (salt.length !== 20 || hash.length !== 20) return false;
  const mine = createHmac('sha1', salt).update(name).digest();
  return timingSafeEqual(mine, hash);
}

/**
 * Does a host field name this host? `name` as from knownHostName(). A hashed field matches by its
 * HMAC; a plain field is a comma list where a matching `!pattern` excludes the host whatever else
 * matches, and otherwise any matching pattern includes it.
 */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) return hashedMatch(hosts, name);
  let positive = false;
  for (const pat of hosts.split(',')) {
    if (pat.startsWith('!')) {
      if (wildcardMatch(name, pat.slice(1))) return false;
    } else if (pat !== '' && wildcardMatch(name, pat)) positive = true;
  }
  return positive;
}

/** The verdict on `key` for `host`:`port` from the entries of known_hosts files (in file order). */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyStatus {
  const name = knownHostName(host, port);
  const mine = entries.filter((e) => e.marker !== 'cert-authority' && hostFieldMatches(e.hosts, name));
  const revoked = mine.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = mine.filter((e) => e.marker === undefined);
  const known = plain.find((e) => e.key.equals(key));
  if (known) return { status: 'known', entry: known };
  if (plain.length === 0) return { status: 'unknown' };
  const type = keyTypeOf(key);
  return { status: 'changed', entry: plain.find((e) => e.keyType === type) ?? plain[0]!, entries: plain };
}

/** Key types on file for a host (unmarked lines), in file order, without repeats. */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostName(host, port);
  const types: string[] = [];
  for (const e of entries) {
    if (e.marker === undefined && hostFieldMatches(e.hosts, name) && !types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/** Read known_hosts files; a file that does not exist counts as empty. */
export function loadKnownHosts(files: string[]): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    out.push(...parseKnownHosts(text, f));
  }
  return out;
}

/** A known_hosts line for a key: plain `name type base64`, or with `hashed` the name as `|1|salt|hash`. */
export function knownHostLine(host: string, port: number, key: Buffer, opts: { hashed?: boolean } = {}): string {
  const type = keyTypeOf(key);
  if (!type) throw new TypeError('malformed host key blob');
  let name = knownHostName(host, port);
  if (opts.hashed) {
    const salt = randomBytes(20);
    name = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  return `${name} ${type} ${key.toString('base64')}`;
}

/**
 * Append a line to a known_hosts file, creating its folder (mode 0700) and the file (0600) when missing.
 * A file that does not end in a newline gets one first. Returns the new line's number.
 */
export function appendKnownHost(file: string, line: string): number {
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  let before = '';
  try {
    before = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const sep = before === '' || before.endsWith('\n') ? '' : '\n';
  appendFileSync(file, `${sep}${line}\n`, { mode: 0o600 });
  if (before === '') chmodSync(file, 0o600);
  const body = before + sep;
  return body === '' ? 1 : body.split('\n').length;
}
