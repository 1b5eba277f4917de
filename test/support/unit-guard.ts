/**
 * Loaded by `npm run test:unit` (node --import): a unit test may start no child process. Every way of
 * starting one throws, so a test that needs a peer program fails loudly in the unit run and belongs in
 * the full suite only (see test/README.md).
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const refuse = (name: string) => () => {
  throw new Error(
    `child_process.${name}: unit tests start no child process (move this file out of test/unit-files.txt)`,
  );
};
for (const name of ['spawn', 'spawnSync', 'fork', 'exec', 'execSync', 'execFile', 'execFileSync'] as const) {
  (childProcess as unknown as Record<string, unknown>)[name] = refuse(name);
}
syncBuiltinESMExports();
