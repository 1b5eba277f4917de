/**
 * `npm run test:unit`: every file listed in test/unit-files.txt, imported into this one process so
 * tsx and the sources load once (a process per file, as `node --test` does, takes three times as long on a
 * small machine). node:test runs the tests they register and sets the exit code when one fails.
 */
import { readFileSync } from 'node:fs';

const list = readFileSync(new URL('./unit-files.txt', import.meta.url), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
for (const file of list) await import(new URL(`../${file}`, import.meta.url).href);
