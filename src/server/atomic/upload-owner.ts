import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Who owns an upload's temporary file. Its name carries the tag of the process that writes it: boot
 * id, process id and the process's start time (clock ticks since boot, from /proc), then a counter.
 * A temporary file is an orphan — its writer is gone, e.g. a SIGKILLed server — when that process no
 * longer runs (no such pid, or a pid reused by a process started at another time), or, when it is
 * this process, when no live upload of this process has that tag. Without /proc (not Linux) the start
 * time is a random value and another process counts as alive while its pid exists.
 */
interface ProcessId {
  boot: string;
  pid: string;
  start: string;
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** Field 22 of /proc/PID/stat (after the command name in parentheses, which may hold spaces). */
function startTicks(pid: number): string | undefined {
  const stat = readOr(`/proc/${pid}/stat`, '');
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  const v = fields[19];
  return v && /^\d+$/.test(v) ? Number(v).toString(36) : undefined;
}

const BOOT = readOr('/proc/sys/kernel/random/boot_id', randomBytes(8).toString('hex'))
  .replace(/[^0-9a-f]/g, '')
  .slice(0, 8);
const SELF: ProcessId = {
  boot: BOOT,
  pid: process.pid.toString(36),
  start: startTicks(process.pid) ?? randomBytes(4).toString('hex'),
};
const HAS_PROC = startTicks(process.pid) !== undefined;

let counter = 0;
/** Tags of this process's uploads that are open right now. */
const live = new Set<string>();

/** A new tag for an upload of this process, registered as live until `release`. */
export function claimTag(): string {
  const tag = `${SELF.boot}-${SELF.pid}-${SELF.start}-${(counter++).toString(36)}`;
  live.add(tag);
  return tag;
}

export function releaseTag(tag: string): void {
  live.delete(tag);
}

const TAG = /^([0-9a-f]{1,16})-([0-9a-z]+)-([0-9a-z]+)-([0-9a-z]+)$/;

/**
 * Whether the upload with this tag certainly has no writer any more: 'orphan', 'owned', or 'unknown'
 * (a tag of another machine or boot, or of an older naming: only its age can tell).
 */
export function ownerOf(tag: string): 'orphan' | 'owned' | 'unknown' {
  const m = TAG.exec(tag);
  if (!m || m[1] !== SELF.boot) return 'unknown';
  if (m[2] === SELF.pid && m[3] === SELF.start) return live.has(tag) ? 'owned' : 'orphan';
  const pid = parseInt(m[2]!, 36);
  if (!Number.isSafeInteger(pid) || pid <= 0) return 'unknown';
  if (HAS_PROC) return startTicks(pid) === m[3] ? 'owned' : 'orphan';
  try {
    process.kill(pid, 0);
    return 'owned';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' ? 'orphan' : 'owned';
  }
}
