/**
 * Server fuzzing with a bounded count (the long run is `npm run fuzz`): random and mutated request
 * sequences against SftpServer on MemoryFs and on LocalFs. serve() never rejects or hangs, every reply
 * decodes, valid requests are answered once, truncated ones get BAD_MESSAGE, every handle is
 * released, and the next session on the same server works.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkNextSession, fuzzServer, runServerCase, serverCaseArb, type FuzzServer } from './server-cases.js';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function fuzz(
  fz: FuzzServer,
  numRuns: number,
  seed?: number,
): Promise<{ cases: number; faults: number; replies: number }> {
  const totals = { cases: 0, faults: 0, replies: 0 };
  await fc.assert(
    fc.asyncProperty(serverCaseArb, async (c) => {
      const out = await runServerCase(fz, c);
      await checkNextSession(fz);
      totals.cases++;
      totals.faults += out.faults;
      totals.replies += out.replies;
    }),
    { numRuns, seed, endOnFailure: true, includeErrorInReport: true },
  );
  return totals;
}

test('server fuzz on MemoryFs: 150 hostile sessions', async () => {
  const t = await fuzz(fuzzServer('memory'), 150);
  console.log(`server fuzz (MemoryFs): ${t.cases} sessions, ${t.faults} faults injected, ${t.replies} replies checked`);
  assert.ok(t.cases >= 150);
});

test('server fuzz on LocalFs: 50 hostile sessions on a temporary root', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-fuzz-'));
  roots.push(root);
  const t = await fuzz(fuzzServer('local', root), 50);
  console.log(`server fuzz (LocalFs): ${t.cases} sessions, ${t.faults} faults injected, ${t.replies} replies checked`);
  assert.ok(t.cases >= 50);
});
