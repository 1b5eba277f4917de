// Which modules the public entry loads, checked in a fresh child process: `import { SftpClient } from
// 'sftp-wire'` loads the client, not the server's session code, the SSH server, ssh2, the transfer or
// tree code, the CLI or the bench. Those load when a call needs them (connect loads ssh2, the first
// put loads the transfer code, the first SftpServer the session code). A structural check: the set of
// files, never a time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeLoadRecorder } from '../../bench/lib/load-recorder.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
/** The `--import` URL that records every module file a child loads (bench/lib/load-recorder.ts). */
let recorder: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sftp-wire-loads-'));
  recorder = writeLoadRecorder(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The files (relative to the repository, '/'-separated) loaded by a child that runs `code` as ESM. */
function loadedBy(code: string, name: string): Promise<Set<string>> {
  const file = join(dir, `${name}.loads`);
  const script = join(dir, `${name}.mts`);
  writeFileSync(script, code);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', recorder, script],
      { cwd: ROOT, env: { ...process.env, LOADS_FILE: file }, timeout: 60_000 },
      (err, _stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        const urls = readFileSync(file, 'utf8').split('\n').filter(Boolean);
        resolve(new Set(urls.map(repoPath)));
      },
    );
  });
}

/** A loaded file as a path in the repository; a package as node_modules/NAME/... wherever it is linked from. */
function repoPath(url: string): string {
  const p = fileURLToPath(url).split(sep).join('/');
  const at = p.lastIndexOf('/node_modules/');
  return at >= 0 ? p.slice(at + 1) : relative(ROOT, p).split(sep).join('/');
}

const ENTRY = JSON.stringify(pathToFileURL(join(ROOT, 'src', 'index.ts')).href);

/** What a client process must not load by importing the entry. */
function notForAClient(f: string): boolean {
  return (
    f.startsWith('src/cli/') ||
    f.startsWith('bench/') ||
    f.startsWith('node_modules/ssh2/') ||
    f === 'src/transport/ssh-server.ts' ||
    f === 'src/transport/ssh-client.ts' ||
    f === 'src/server/session.ts' ||
    f === 'src/server/context.ts' ||
    f.startsWith('src/server/handlers/') ||
    f.startsWith('src/server/atomic/') ||
    f === 'src/client/file/transfer.ts' ||
    f.startsWith('src/client/file/atomic/atomic-') ||
    (f.startsWith('src/client/tree/') && f !== 'src/client/tree/types.ts')
  );
}

test("import { SftpClient } from 'sftp-wire' loads the client only: no server session, SSH server, ssh2, transfer or tree code, CLI or bench", async () => {
  const loaded = await loadedBy(
    `import { SftpClient } from ${ENTRY};\nif (typeof SftpClient !== 'function') throw new Error('no SftpClient');\n`,
    'import',
  );
  assert.ok(
    loaded.has('src/index.ts') && loaded.has('src/client/client.ts') && loaded.has('src/server/sftp-server.ts'),
    'the recorder saw the entry',
  );
  assert.deepEqual([...loaded].filter(notForAClient), []);
});

test('each part loads when a call needs it: the session code with the first SftpServer, ssh2 with a key helper, the transfer code with the first readFile', async () => {
  const loaded = await loadedBy(
    `import { SftpServer, MemoryFs, SftpClient, generateEd25519KeyPair } from ${ENTRY};
import { memoryPair } from ${JSON.stringify(pathToFileURL(join(ROOT, 'bench', 'lib', 'peers', 'streams.ts')).href)};
const fs = new MemoryFs();
const server = new SftpServer({ fs });
const [a, b] = memoryPair();
const served = server.serve(b);
const client = await SftpClient.fromStream(a);
await client.writeFile('/f', 'x');
if ((await client.readFile('/f')).toString() !== 'x') throw new Error('read back');
await client.end();
await served;
if (!generateEd25519KeyPair().public.startsWith('ssh-ed25519 ')) throw new Error('key');
`,
    'calls',
  );
  for (const f of ['src/server/session.ts', 'src/client/file/transfer.ts', 'node_modules/ssh2/lib/index.js'])
    assert.ok(loaded.has(f), `${f} is loaded by the call that needs it`);
  assert.equal(loaded.has('src/transport/ssh-server.ts'), false, 'no SSH server was started');
  assert.equal(
    [...loaded].some((f) => f.startsWith('src/client/tree/') && f !== 'src/client/tree/types.ts'),
    false,
    'no tree call',
  );
});

test("import { Session } from 'sftp-wire/advanced' loads no SSH server and no server session code (its SSH server defaults have a module of their own)", async () => {
  const advanced = JSON.stringify(pathToFileURL(join(ROOT, 'src', 'advanced.ts')).href);
  const loaded = await loadedBy(
    `import { Session, DEFAULT_MAX_CONNECTIONS } from ${advanced};\nif (typeof Session !== 'function' || DEFAULT_MAX_CONNECTIONS !== 256) throw new Error('exports');\n`,
    'advanced',
  );
  assert.ok(
    loaded.has('src/advanced.ts') && loaded.has('src/transport/ssh-server-defaults.ts'),
    'the recorder saw the entry',
  );
  const serverSide = [...loaded].filter(
    (f) =>
      f === 'src/transport/ssh-server.ts' ||
      f === 'src/server/session.ts' ||
      f.startsWith('src/server/handlers/') ||
      f.startsWith('src/cli/') ||
      f.startsWith('bench/'),
  );
  assert.deepEqual(serverSide, []);
});
