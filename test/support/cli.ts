/** The sftp-wire CLI (src/cli/main.ts through tsx) as a child process, for end-to-end tests. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** tsx's ESM loader, for `node --import TSX_LOADER` in a child whose working folder is not the repository. */
export const TSX_LOADER = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));

export interface CliRun {
  /** Exit code (1 when the child could not report one). */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `sftp-wire ARGS` to its end. HOME is `home` (a temporary folder, so accept-new records host keys
 * there and not in the user's ~/.ssh) and no ssh-agent is offered.
 */
export function runCli(home: string, args: string[]): Promise<CliRun> {
  assert.ok(home, 'the temporary HOME is set up');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI_MAIN, ...args],
      { env: { ...process.env, SSH_AUTH_SOCK: '', HOME: home } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}
