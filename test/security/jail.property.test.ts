/**
 * The LocalFs jail as a property, through the whole server: random paths and planted symlinks that
 * lead out never read, write, list or stat anything outside the root (checked on the real file system,
 * access times included), and no reply carries outside content, names, attributes or real paths.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JailWorld, jailCaseArb, runJailCase } from './jail-cases.js';

const world = new JailWorld();
after(() => world.dispose());

test('jail: 150 random sessions of hostile paths leave everything outside the root untouched and unread', async () => {
  let cases = 0;
  let attempts = 0;
  await fc.assert(
    fc.asyncProperty(jailCaseArb, async (c) => {
      attempts += (await runJailCase(world, c)).attempts;
      cases++;
    }),
    { numRuns: 150, endOnFailure: true, includeErrorInReport: true },
  );
  console.log(
    `jail: ${cases} sessions, ${attempts} requests with hostile paths; nothing outside the root read, listed, stat'ed or changed`,
  );
  assert.equal(cases, 150);
});

test('jail self-check: the outside checks do see a read, a change and a leaked reply', async () => {
  const w = new JailWorld();
  try {
    const { readFileSync, writeFileSync, readdirSync } = await import('node:fs');
    const path = await import('node:path');
    const outside = path.join(w.base, 'outside');
    const sentinel = readdirSync(outside).find((n) => n.startsWith('sentinel-'))!;
    w.assertOutsideUntouched('before');
    readFileSync(path.join(outside, sentinel)); // a read moves the access time (relatime: it is older than the mtime)
    assert.throws(() => w.assertOutsideUntouched('after a read'), /changed \(or was read\)/);
    const w2 = new JailWorld();
    try {
      writeFileSync(path.join(w2.base, 'root2', 'new-file'), 'x');
      assert.throws(() => w2.assertOutsideUntouched('after a create'), /changed/);
      assert.throws(
        () => w2.assertReplyClean({ type: 105, id: 1, attrs: { mtime: 1_234_567_890 } }, 'attrs'),
        /outside/,
      );
      assert.throws(() => w2.assertReplyClean({ type: 103, id: 1, data: w2.sentinel }, 'data'), /outside content/);
    } finally {
      w2.dispose();
    }
  } finally {
    w.dispose();
  }
});
