// A recorder of every module file a Node process loads: ES modules through a loader hook, CommonJS
// from require's cache when the process exits. Each loaded file's URL is appended, one per line, to
// the file named by the LOADS_FILE environment variable of the recorded process. Used by
// bench/connect-time.ts (how many modules an import costs) and by the test of what the public entry
// loads.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Write the recorder into `dir`; returns the URL to give the recorded process as `--import URL`. */
export function writeLoadRecorder(dir: string): string {
  const hooks = join(dir, 'load-hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.LOADS_FILE, url + '\\n');
  return next(url, context);
}
`,
  );
  const record = join(dir, 'load-record.mjs');
  writeFileSync(
    record,
    `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const require = createRequire(import.meta.url);
process.on('exit', () => {
  for (const f of Object.keys(require.cache)) appendFileSync(process.env.LOADS_FILE, pathToFileURL(f).href + '\\n');
});
`,
  );
  return pathToFileURL(record).href;
}
