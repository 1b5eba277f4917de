import { OpenFlags as F } from '../../protocol/index.js';

/** Node's fs flag strings, or a raw pflags number. */
export type OpenMode = 'r' | 'r+' | 'w' | 'wx' | 'w+' | 'wx+' | 'a' | 'ax' | 'a+' | 'ax+' | number;

const MODES: Record<Exclude<OpenMode, number>, number> = {
  r: F.READ,
  'r+': F.READ | F.WRITE,
  w: F.WRITE | F.CREAT | F.TRUNC,
  wx: F.WRITE | F.CREAT | F.TRUNC | F.EXCL,
  'w+': F.READ | F.WRITE | F.CREAT | F.TRUNC,
  'wx+': F.READ | F.WRITE | F.CREAT | F.TRUNC | F.EXCL,
  a: F.WRITE | F.CREAT | F.APPEND,
  ax: F.WRITE | F.CREAT | F.APPEND | F.EXCL,
  'a+': F.READ | F.WRITE | F.CREAT | F.APPEND,
  'ax+': F.READ | F.WRITE | F.CREAT | F.APPEND | F.EXCL,
};

/** The SFTP pflags for a Node-style flag string (or a pflags number, passed through). */
export function toPflags(mode: OpenMode): number {
  if (typeof mode === 'number') {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0xffffffff) throw new RangeError(`invalid pflags ${mode}`);
    return mode;
  }
  const v = (MODES as Record<string, number | undefined>)[mode];
  if (v === undefined)
    throw new TypeError(
      `unknown open flags ${JSON.stringify(mode)} (use r, r+, w, wx, w+, wx+, a, ax, a+, ax+ or a number)`,
    );
  return v;
}
