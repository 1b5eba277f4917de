import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MAX_TURN_PINS, TurnPins } from '../../src/server/fs/turn-pins.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { tempDir } from '../support/temp-dir.js';
import { READ_ONLY } from '../support/open-options.js';

const linux = process.platform === 'linux' && fs.existsSync('/proc/self/fd');
const fdPath = (fd: number): string => `/proc/self/fd/${fd}`;
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** This process's descriptors that lead into `base`. */
function into(base: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(base);
    } catch {
      return false;
    }
  }).length;
}

describe('TurnPins: a directory pinned once per event-loop turn, checked at every use', { skip: !linux }, () => {
  const t = tempDir();
  after(() => t.cleanup());

  it('uses in one turn share one descriptor; none is left once the turn is over', async () => {
    const base = t.fresh('a', 'b');
    const pins = new TurnPins(fdPath);
    const a = pins.dirPath(path.join(base, 'a'));
    assert.ok(a !== undefined);
    assert.equal(pins.dirPath(path.join(base, 'a')), a);
    assert.ok(pins.dirPath(path.join(base, 'b')) !== undefined);
    assert.equal(pins.size, 2);
    assert.equal(into(base), 2);
    await nextTurn();
    assert.equal(pins.size, 0);
    assert.equal(into(base), 0);
  });

  it('a turn that names many directories holds at most MAX_TURN_PINS, the oldest closed first', async () => {
    const names = Array.from({ length: MAX_TURN_PINS * 3 }, (_, i) => `d${i}`);
    const base = t.fresh(...names);
    const pins = new TurnPins(fdPath);
    for (const n of names) {
      const p = pins.dirPath(path.join(base, n));
      assert.ok(p !== undefined);
      assert.equal(readlinkSync(p), path.join(base, n), 'the path reaches the directory asked for');
      assert.ok(into(base) <= MAX_TURN_PINS);
    }
    assert.equal(pins.size, MAX_TURN_PINS);
    // the newest are still held; the first ones were closed
    assert.equal(readlinkSync(pins.dirPath(path.join(base, names.at(-1)!))!), path.join(base, names.at(-1)!));
    await nextTurn();
    assert.equal(into(base), 0);
  });

  it('a directory renamed, or swapped for a symlink, within the turn is not used', async () => {
    const base = t.fresh('d', 'outside');
    writeFileSync(path.join(base, 'd', 'f'), 'inside');
    const pins = new TurnPins(fdPath);
    const d = path.join(base, 'd');
    assert.ok(pins.dirPath(d) !== undefined);
    renameSync(d, path.join(base, 'd-old'));
    symlinkSync(path.join(base, 'outside'), d);
    assert.equal(pins.dirPath(d), undefined, 'a symlink now stands at the path');
    assert.equal(pins.size, 0, 'the stale descriptor is closed at once');
    rmSync(d);
    mkdirSync(d);
    writeFileSync(path.join(d, 'f'), 'new');
    const again = pins.dirPath(d);
    assert.ok(again !== undefined);
    assert.equal(fs.readFileSync(`${again}/f`, 'utf8'), 'new', 'the directory now at the path, not the old one');
    rmSync(d, { recursive: true });
    assert.equal(pins.dirPath(d), undefined, 'removed: "(deleted)" is not the path');
    await nextTurn();
    assert.equal(into(base), 0);
  });

  it('LocalFs: a burst of opens in one directory, answered, leaves no descriptor behind', async () => {
    const base = t.fresh('x');
    for (let i = 0; i < 5; i++) writeFileSync(path.join(base, 'x', `f${i}`), `${i}`);
    const lfs = new LocalFs(base);
    const files = await Promise.all(Array.from({ length: 5 }, (_, i) => lfs.open(`/x/f${i}`, READ_ONLY)));
    for (const [i, f] of files.entries()) assert.equal((await f.read(0, 10)).toString(), `${i}`);
    await Promise.all(files.map((f) => f.close()));
    await nextTurn();
    assert.equal(into(base), 0);
  });
});
