// What a TypeScript user gets from `npm install sftp-wire`: the package is packed as it would be
// published (npm pack, which builds it), installed into a scratch project with exactly the
// dependencies its package.json declares (linked from this checkout's node_modules: no network), and
// the README's client examples are type-checked with `tsc --strict` and no skipLibCheck. A misspelled
// connect option must be a type error even with skipLibCheck (the option types are not `any`). The
// installed entries (bundled by the build, scripts/bundle.mjs) are run by plain node: the same exports
// as the sources, one class per error across entries, and calls that load code on first use.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLoadRecorder } from '../../bench/lib/load-recorder.js';
import { SFTP_PATH, requireOpenSsh } from '../../bench/lib/peers/openssh.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      {
        cwd,
        maxBuffer: 32 << 20,
        timeout: 120_000,
        env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' },
      },
      (err, stdout, stderr) => {
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0,
          out: `${stdout}${stderr}`,
        });
      },
    );
  });
}

const README_CLIENT = `
import { SftpClient, SftpError, type TransferResult, type TreeResult } from 'sftp-wire';

const privateKey = Buffer.from('');
const signal = new AbortController().signal;
const client = await SftpClient.connect({ host: 'files.example.org', username: 'me', privateKey, sftp: { requests: 32 } });
const v: number = client.version;
const ext: Map<string, string> = client.extensions;
const maxRead: number = client.limits.maxReadLength;

const up: TransferResult = await client.put('report.csv', '/srv/in/report.csv', { onProgress: (p) => console.log(p.bytes, p.total) });
await client.get('/srv/out/big.iso', 'big.iso', { chunkSize: 256 * 1024, requests: 32, signal });
const motd: Buffer = await client.readFile('/etc/motd');
await client.writeFile('/tmp/hello.txt', 'hello');
for await (const e of client.scandir('/var/log')) {
  console.log(e.filename, e.attrs.size);
  if (e.filename === 'found-it') break;
}
const entries = await client.list('/var/log');
console.log(entries.map((e) => e.filename));

const tree: TreeResult = await client.putTree('./site', '/var/www/site', { preserve: true });
console.log(\`\${tree.files} files, \${tree.bytes} bytes, \${tree.directories} directories\`);
for (const { path, error } of tree.errors) console.error(\`\${path}: \${error}\`);
await client.getTree('/var/log/app', './logs', {
  symlinks: 'skip',
  onProgress: ({ files, bytes, totalFiles }) => console.log(files, '/', totalFiles ?? '?', bytes),
});
await client.put('big.iso', '/data/big.iso', { resume: true, verify: 'tail', atomic: true });
try {
  await client.rmtree('/tmp/old-build');
} catch (err) {
  if (err instanceof SftpError) console.log(err.code, err.path);
}
console.log(v, ext, maxRead, up.bytes, motd.length);
await client.end();
`;

const README_SERVER = `
import { SftpServer, startSftpSshServer, loadOrCreateHostKey } from 'sftp-wire';
import { PacketType } from 'sftp-wire/protocol';

const server = new SftpServer({ root: '/srv/data', atomicUploads: 'atomic-resume', readOnly: false,
  limits: { maxPacket: 263168, maxRead: 261120, maxWrite: 261120, maxHandles: 1024, maxInFlight: 64 } });
const ssh = await startSftpSshServer({ server, hostKeys: [loadOrCreateHostKey('./host_key')], port: 2222,
  users: [{ username: 'alice', password: 'secret' }], authorizedKeysFile: './authorized_keys', idleTimeoutMs: 600_000 });
console.log(ssh.port, PacketType.WRITE);
await ssh.close();
`;

const MISSPELLED = `
import { SftpClient } from 'sftp-wire';
await SftpClient.connect({ hots: 'x' });
await SftpClient.connect({ host: 'x', sftp: { requestz: 1 } });
`;

// Run by plain node in the scratch project: what each entry exports, whether an error class is one class
// across entries, and a session whose calls load the code kept for first use (server session, transfers).
const RUN_ENTRIES = `
import * as main from 'sftp-wire';
import * as advanced from 'sftp-wire/advanced';
import * as protocol from 'sftp-wire/protocol';
import { Duplex, PassThrough } from 'node:stream';
const { SftpServer, MemoryFs, SftpClient, SftpError, StatusCode } = main;
const toServer = new PassThrough();
const toClient = new PassThrough();
const server = new SftpServer({ fs: new MemoryFs() });
const served = server.serve(Duplex.from({ readable: toServer, writable: toClient }));
const client = await SftpClient.fromStream(Duplex.from({ readable: toClient, writable: toServer }));
await client.writeFile('/f', 'hello');
const back = (await client.readFile('/f')).toString();
const err = await client.stat('/missing').catch((e) => e);
await client.mkdir('/d');
await client.writeFile('/d/a', 'x');
const removed = await client.rmtree('/d');
const treeErr = await client.rmtree('/missing').catch((e) => e);
await client.end();
await served;
// the SSH server and client (ssh2 loaded on first use), over loopback, with a password
const ssh = await main.startSftpSshServer({
  server: new SftpServer({ fs: new MemoryFs() }),
  hostKeys: [main.generateEd25519KeyPair().private],
  host: '127.0.0.1',
  port: 0,
  users: [{ username: 'u', password: 'p' }],
});
const overSsh = await SftpClient.connect({ host: '127.0.0.1', port: ssh.port, username: 'u', password: 'p' });
await overSsh.writeFile('/s', 'over ssh');
const sshBack = (await overSsh.readFile('/s')).toString();
await overSsh.end();
await ssh.close();
console.log(JSON.stringify({
  main: Object.keys(main).sort(),
  advanced: Object.keys(advanced).sort(),
  protocol: Object.keys(protocol).sort(),
  oneClass: main.SftpError === protocol.SftpError && advanced.Session !== undefined,
  back,
  notFound: err instanceof protocol.SftpError && err instanceof SftpError && err.status === StatusCode.NO_SUCH_FILE && err.code === 'ENOENT',
  tree: [removed.files, removed.directories, treeErr instanceof SftpError && treeErr.code === 'ENOENT'],
  sshBack,
}));
`;

const TSCONFIG = (skipLibCheck: boolean, files: string[]) =>
  JSON.stringify({
    compilerOptions: {
      strict: true,
      skipLibCheck,
      noEmit: true,
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      types: ['node'],
    },
    files,
  });

describe('the packed package, as a TypeScript user installs it', { timeout: 240_000 }, () => {
  let dir: string;
  let app: string;
  let installed: string;
  let packed: { dependencies?: Record<string, string>; devDependencies?: Record<string, string>; license?: string };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sftp-wire-pack-'));
    // A copy of what the build needs, so that packing (which rebuilds dist/) leaves this checkout alone.
    const pkg = join(dir, 'pkg');
    mkdirSync(pkg);
    for (const f of [
      'package.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src',
      'bin',
      'bench',
      'scripts',
      'test/support',
      'LICENSE',
      'README.md',
    ]) {
      if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    const pack = await run('npm', ['pack', '--pack-destination', dir], pkg);
    assert.equal(pack.code, 0, pack.out);
    const tarballs = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    assert.equal(tarballs.length, 1, pack.out);
    const file = tarballs[0]!;
    app = join(dir, 'app');
    installed = join(app, 'node_modules', 'sftp-wire');
    mkdirSync(installed, { recursive: true });
    const untar = await run('tar', ['-xzf', join(dir, file), '-C', installed, '--strip-components=1'], dir);
    assert.equal(untar.code, 0, untar.out);
    packed = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    // Install exactly what the package declares (and the user's own @types/node), from this checkout.
    for (const dep of [...Object.keys(packed.dependencies ?? {}), '@types/node']) {
      const to = join(app, 'node_modules', dep);
      mkdirSync(dirname(to), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', dep), to, 'dir');
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    writeFileSync(join(app, 'client.ts'), README_CLIENT);
    writeFileSync(join(app, 'server.ts'), README_SERVER);
    writeFileSync(join(app, 'misspelled.ts'), MISSPELLED);
    writeFileSync(join(app, 'run-entries.mjs'), RUN_ENTRIES);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the compiled code, its declarations, the command and the license', () => {
    for (const f of [
      'dist/bundle/index.js',
      'dist/bundle/protocol/index.js',
      'dist/bundle/advanced.js',
      'dist/src/index.d.ts',
      'dist/src/protocol/index.d.ts',
      'dist/bundle/cli/main.js',
      'bin/sftp-wire.js',
      'LICENSE',
    ]) {
      assert.ok(existsSync(join(installed, f)), `${f} is in the package`);
    }
    assert.equal(packed.license, 'MIT');
    assert.match(readFileSync(join(installed, 'LICENSE'), 'utf8'), /^MIT License/);
  });

  it('its entries, run by node, export what the sources export, share one class per error, and load code on first use', async () => {
    const r = await run(process.execPath, ['run-entries.mjs'], app);
    assert.equal(r.code, 0, r.out);
    const got = JSON.parse(r.out) as Record<string, unknown>;
    const keys = (m: object) => Object.keys(m).sort();
    assert.deepEqual(got, {
      main: keys(await import('../../src/index.js')),
      advanced: keys(await import('../../src/advanced.js')),
      protocol: keys(await import('../../src/protocol/index.js')),
      oneClass: true,
      back: 'hello',
      notFound: true,
      tree: [1, 1, true],
      sshBack: 'over ssh',
    });
  });

  it("import { SftpClient } from 'sftp-wire' loads two files of the package (its entry and core.js), nothing of ssh2 and no worker_threads", async () => {
    const recorder = writeLoadRecorder(dir);
    const log = join(dir, 'client-import.loads');
    writeFileSync(join(app, 'client-import.mjs'), "import { SftpClient } from 'sftp-wire';\n");
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        process.execPath,
        ['--import', recorder, 'client-import.mjs'],
        { cwd: app, timeout: 60_000, env: { ...process.env, LOADS_FILE: log } },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` }),
      ),
    );
    assert.equal(r.code, 0, r.out);
    const loaded = new Set(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((u) => fileURLToPath(u)),
    );
    const ours = [...loaded].filter((f) => f.startsWith(installed)).map((f) => f.slice(installed.length + 1));
    assert.deepEqual(ours.sort(), ['dist/bundle/core.js', 'dist/bundle/index.js']);
    assert.deepEqual(
      [...loaded].filter((f) => f.includes('/node_modules/ssh2/')),
      [],
    );
    // node's worker machinery (the server's lstat worker) loads with the worker, not with the import;
    // run without the recorder, whose loader hooks run on a worker thread of their own
    writeFileSync(
      join(app, 'client-builtins.mjs'),
      "import { SftpClient } from 'sftp-wire';\nconsole.log(JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (worker_threads|internal\\/worker)$/.test(m))));\n",
    );
    const b = await run(process.execPath, ['client-builtins.mjs'], app);
    assert.equal(b.code, 0, b.out);
    assert.deepEqual(JSON.parse(b.out), []);
  });

  it('declares the types its declarations import as dependencies', () => {
    assert.ok(packed.dependencies?.['@types/ssh2'], 'the .d.ts files import ssh2: @types/ssh2 must be a dependency');
    assert.equal(packed.devDependencies?.['@types/ssh2'], undefined);
  });

  it('the README examples type-check with tsc --strict and no skipLibCheck', async () => {
    writeFileSync(join(app, 'tsconfig.json'), TSCONFIG(false, ['client.ts', 'server.ts']));
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
    assert.equal(r.code, 0, `tsc reported errors:\n${r.out}`);
  });

  it("a misspelled connect option (ssh2's or ours) is a type error, even with skipLibCheck", async () => {
    writeFileSync(join(app, 'tsconfig.json'), TSCONFIG(true, ['misspelled.ts']));
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
    assert.notEqual(r.code, 0, 'hots was accepted');
    assert.match(r.out, /misspelled\.ts\(3,\d+\): error TS2353: .*'hots' does not exist/);
    assert.match(r.out, /misspelled\.ts\(4,\d+\): error TS2\d+: .*'requestz' does not exist/);
    assert.equal(
      r.out
        .trim()
        .split('\n')
        .filter((l) => /error TS/.test(l)).length,
      2,
      r.out,
    );
  });

  it('the installed command runs the compiled CLI, with no notice', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [join(installed, 'bin', 'sftp-wire.js'), '--help'],
        { timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: sftp-wire <command>/);
    assert.equal(r.stderr, '');
  });

  it("the installed command serves OpenSSH's sftp (sftp -D) from its bundled CLI, and finds its bench suite", () => {
    requireOpenSsh(SFTP_PATH);
    const root = join(dir, 'served');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'sub', 'hello.txt'), 'hello from the packed server\n');
    const command = [process.execPath, join(installed, 'bin', 'sftp-wire.js'), 'serve', '--stdio', '--root', root];
    const r = spawnSync(SFTP_PATH, ['-q', '-b', '-', '-D', command.join(' ')], {
      cwd: dir,
      input: 'put pkg/package.json /sub/up.json\nget /sub/hello.txt got.txt\nls /sub\n',
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /hello\.txt/);
    assert.equal(readFileSync(join(dir, 'got.txt'), 'utf8'), 'hello from the packed server\n');
    assert.deepEqual(readFileSync(join(root, 'sub', 'up.json')), readFileSync(join(dir, 'pkg', 'package.json')));
    // The bundled CLI still reaches the bench suite, which stays tsc's output (dist/bench).
    const bench = spawnSync(process.execPath, [join(installed, 'bin', 'sftp-wire.js'), 'bench', '--help'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(bench.status, 0, bench.stderr);
    assert.match(bench.stdout, /^usage: npm run bench/);
  });
});
