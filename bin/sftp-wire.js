#!/usr/bin/env node
// The installed command. A published package carries the compiled CLI (dist/, built when packed). A
// clone runs it from source through tsx until `npm run build` has made dist/, and says so once.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/bundle/cli/main.js', import.meta.url));
const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

async function loadMain() {
  if (existsSync(compiled)) return import(pathToFileURL(compiled).href);
  if (existsSync(source)) {
    let register;
    try {
      ({ register } = await import('tsx/esm/api'));
    } catch {
      throw new Error(
        `no compiled CLI at ${compiled} and tsx is not installed to run it from source: run \`npm ci && npm run build\``,
      );
    }
    process.stderr.write('sftp-wire: running from source (no dist/ yet; `npm run build` compiles it)\n');
    register();
    return import(pathToFileURL(source).href);
  }
  throw new Error(`the compiled CLI is missing (${compiled}): reinstall sftp-wire`);
}

loadMain()
  .then(({ main }) => main(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`sftp-wire: ${err?.message ?? err}\n`);
      process.exitCode = 1;
    },
  );
