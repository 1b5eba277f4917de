/**
 * An SftpServer loads its session code when it is made, not when the package is imported; serve()
 * calls that come before that load has finished (the same tick as the construction) wait for it. In a
 * fresh child process (where nothing is loaded yet), each of four such streams ends as it would have
 * with the code loaded at once: a destroyed stream is not served and serve() resolves; an 'error'
 * nobody else listens for does not crash the process and ends the session; a stream that was already
 * flowing loses none of its input; a paused one is served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./fixtures/first-serve-child.ts', import.meta.url));

test('serve() calls made before the session code has loaded lose nothing and crash nothing', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', CHILD], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
  assert.equal(code, 0, `the child failed: ${stderr}`);
  assert.deepEqual(JSON.parse(stdout), {
    sessionsBeforeLoad: 0, // the four calls really came before the load
    destroyed: 'resolved',
    failing: 'resolved',
    failingDestroyed: true,
    flowingVersion: 3,
    flowingRealpath: '/',
    pausedVersion: 3,
    flowing: 'resolved',
    paused: 'resolved',
    sessionsAfter: 0,
  });
});

const RESET_CHILD = fileURLToPath(new URL('./fixtures/first-serve-reset-child.ts', import.meta.url));

test('a real TCP reset before the session code has loaded: serve() resolves, nothing crashes, the next connection is served', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', RESET_CHILD], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
  assert.equal(code, 0, `the child failed: ${stderr}`);
  assert.deepEqual(JSON.parse(stdout), {
    sessionsBeforeLoad: 0, // the reset socket was handed over before the load
    first: 'resolved',
    secondVersion: 3,
    second: 'resolved',
    sessionsAfter: 0,
  });
});
