/**
 * Password hashes for stored credentials: scrypt (node:crypto) in the PHC string format,
 * `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64 without padding; N = 2^ln). Parameters are checked
 * before any work so that a hostile or mistyped hash cannot make a verification take gigabytes.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** log2 of scrypt's cost N (default 15). */
  ln: number;
  r: number;
  p: number;
}

const DEFAULT_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 1 };
/** scrypt's memory need is 128 * N * r bytes: at most this much is accepted (256 MiB). */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

export interface ParsedPasswordHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

function checkParams(p: ScryptParams): string | undefined {
  if (!Number.isInteger(p.ln) || p.ln < 10 || p.ln > 22) return `ln must be an integer from 10 to 22, got ${p.ln}`;
  if (!Number.isInteger(p.r) || p.r < 1 || p.r > 32) return `r must be an integer from 1 to 32, got ${p.r}`;
  if (!Number.isInteger(p.p) || p.p < 1 || p.p > 16) return `p must be an integer from 1 to 16, got ${p.p}`;
  if (128 * 2 ** p.ln * p.r > MAX_SCRYPT_MEMORY)
    return `ln=${p.ln},r=${p.r} needs more than ${MAX_SCRYPT_MEMORY / 2 ** 20} MiB`;
  return undefined;
}

/** A stored hash's parts, or why it is not one this module makes. */
export function parsePasswordHash(text: string): ParsedPasswordHash | { error: string } {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(text.trim());
  if (!m)
    return {
      error: 'not a password hash of the form $scrypt$ln=N,r=N,p=N$SALT$HASH (make one with `sftp-wire hash-password`)',
    };
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const bad = checkParams(params);
  if (bad) return { error: `scrypt parameters: ${bad}` };
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8) return { error: 'the salt is shorter than 8 bytes' };
  if (hash.length < 16 || hash.length > 64) return { error: 'the hash must be 16 to 64 bytes long' };
  return { ...params, salt, hash };
}

function derive(password: string, salt: Buffer, p: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** p.ln;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      length,
      { N, r: p.r, p: p.p, maxmem: 2 * 128 * N * p.r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

/** A new hash of `password` (random salt) in the PHC format above. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const bad = checkParams(params);
  if (bad) throw new RangeError(`scrypt parameters: ${bad}`);
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, params, KEY_LENGTH);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

/** Whether `password` matches a stored hash (a string, or one parsed already). False for a malformed hash. */
export async function verifyPassword(password: string, stored: string | ParsedPasswordHash): Promise<boolean> {
  const h = typeof stored === 'string' ? parsePasswordHash(stored) : stored;
  if ('error' in h) return false;
  const key = await derive(password, h.salt, h, h.hash.length);
  return timingSafeEqual(key, h.hash);
}

let dummy: ParsedPasswordHash | undefined;

/**
 * Spend the time of one verification and return false: for a user name that does not exist, so
 * that the answer's timing does not tell which names do.
 */
export async function verifyNobody(password: string): Promise<false> {
  dummy ??= { ...DEFAULT_SCRYPT, salt: randomBytes(SALT_LENGTH), hash: randomBytes(KEY_LENGTH) };
  await verifyPassword(password, dummy);
  return false;
}
