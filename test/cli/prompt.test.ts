// The no-echo prompt's line editing and its promise to leave the terminal as it found it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { canPrompt, PromptCancelled, readHidden } from '../../src/cli/prompt.js';

/** A terminal's input side: records raw mode and pause; `type` delivers keystrokes. */
class FakeTty extends EventEmitter {
  isTTY = true;
  raw: boolean[] = [];
  paused = true;
  setRawMode(on: boolean) {
    this.raw.push(on);
  }
  resume() {
    this.paused = false;
  }
  pause() {
    this.paused = true;
  }
  type(s: string) {
    this.emit('data', Buffer.from(s));
  }
}

function output() {
  const writes: string[] = [];
  return { writes, write: (s: string) => writes.push(s) };
}

describe('readHidden', () => {
  it('reads a line in raw mode, edits with backspace and Ctrl-U, and restores the terminal', async () => {
    const tty = new FakeTty();
    const out = output();
    const answer = readHidden('Password: ', tty, out);
    assert.deepEqual(tty.raw, [true], 'raw mode (no echo) before the prompt shows');
    assert.deepEqual(out.writes, ['Password: ']);
    tty.type('wrong\u0015pass');
    tty.type('x\u007fw\b');
    tty.type('word\rignored');
    assert.equal(await answer, 'password');
    assert.deepEqual(tty.raw, [true, false]);
    assert.equal(tty.paused, true);
    assert.equal(tty.listenerCount('data'), 0);
    assert.deepEqual(out.writes, ['Password: ', '\n'], 'nothing typed is written back');
  });

  it('Ctrl-C and Ctrl-D on an empty line cancel; the terminal is restored', async () => {
    for (const [key, name] of [
      ['\u0003', 'ctrl-c'],
      ['\u0004', 'ctrl-d'],
    ] as const) {
      const tty = new FakeTty();
      const p = readHidden('? ', tty, output());
      tty.type(key === '\u0004' ? key : `abc${key}`);
      await assert.rejects(p, (e: unknown) => e instanceof PromptCancelled && e.key === name);
      assert.deepEqual(tty.raw, [true, false]);
      assert.equal(tty.listenerCount('data'), 0);
    }
  });

  it('any printable line typed in any chunks comes back as typed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme-ascii' }).filter((s) => !/[\x00-\x1f\x7f]/.test(s)),
        fc.integer({ min: 1, max: 5 }),
        async (line, cut) => {
          const tty = new FakeTty();
          const p = readHidden('', tty, output());
          const text = `${line}\n`;
          for (let i = 0; i < text.length; i += cut) tty.type(text.slice(i, i + cut));
          assert.equal(await p, line);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('readHidden and UTF-8', () => {
  it('a character split across reads is kept whole', async () => {
    const tty = new FakeTty();
    const p = readHidden('', tty, output());
    const bytes = Buffer.from('pässwörd€\r');
    for (const b of bytes) tty.emit('data', Buffer.from([b]));
    assert.equal(await p, 'pässwörd€');
  });
});

describe('canPrompt', () => {
  it('only on a terminal, and never under CI', () => {
    assert.equal(canPrompt({ isTTY: true }, {}), true);
    assert.equal(canPrompt({ isTTY: false }, {}), false);
    assert.equal(canPrompt({}, {}), false);
    assert.equal(canPrompt({ isTTY: true }, { CI: 'true' }), false);
    assert.equal(canPrompt({ isTTY: true }, { CI: '1' }), false);
    assert.equal(canPrompt({ isTTY: true }, { CI: 'false' }), true);
    assert.equal(canPrompt({ isTTY: true }, { CI: '' }), true);
  });
});
