#!/usr/bin/env node
// The code the package's entries load, bundled (part of `npm run build`, after tsc), in dist/bundle/:
//
//   core.js        everything the three public entries load statically, in one file: the client, the
//                  server's classes, the codec, the errors. ('sftp-wire', 'sftp-wire/advanced' and
//                  'sftp-wire/protocol' all export from it, so a class is one class whichever entry it
//                  is imported from: `instanceof SftpError` holds across them.)
//   index.js, advanced.js, protocol/index.js
//                  the entries package.json's exports lead to: one line each, their exports from core.js.
//   lazy-*.js      the code a call loads on first use (each dynamic import() of src/: the transfer and
//                  tree code, the server's session, the SSH server), with the chunks they share. They
//                  take what they use of core.js from core.js (its exports named __mN$name).
//
// Why: Node's ES module loader pays about a millisecond of CPU per file it loads, and V8 compiles the
// whole text of every file it loads (the functions lazily, but it still reads them all). A process
// that imports the client and connects should load two files of ours, holding only the code that can
// run before its first transfer: bench/connect-time.ts. ssh2 and node's modules stay imports. The
// declarations stay tsc's (dist/src/*.d.ts).
//
//   cli/main.js, cli/chunks/*.js
//                  the CLI (bin/sftp-wire.js runs it), a program of its own: its subcommands in chunks
//                  loaded by the one asked for. `sftp-wire serve --stdio` starts once per session under
//                  sshd or `sftp -D`, so its start-up is paid per session. Its `bench` command imports
//                  tsc's dist/bench/run.js (the bench finds its child scripts beside its own files).
//
//   node scripts/bundle.mjs [--root DIR] [--out DIR]   (defaults: this repository, DIR/dist/bundle)
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string' }, out: { type: 'string' } } });
const root = resolve(values.root ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const out = resolve(values.out ?? join(root, 'dist', 'bundle'));

/** The entries, as package.json's exports name them: './dist/bundle/<name>.js' from 'src/<file>'. */
const ENTRIES = {
  index: 'src/index.ts',
  advanced: 'src/advanced.ts',
  'protocol/index': 'src/protocol/index.ts',
};

const COMMON = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
};

/** A source file's absolute path from a metafile's name for it (relative to root, '/'-separated). */
const fromMeta = (p) => resolve(root, p);
/** The name of the lazy file for a dynamically imported source: src/client/tree/index.ts -> lazy-client-tree-index. */
const lazyName = (file) => `lazy-${relative(join(root, 'src'), file).replace(/\.ts$/, '').split(sep).join('-')}`;

/** A plugin that hands each relative import to `decide(resolvedPath, args)`; what it returns is the resolution (undefined: esbuild's own). */
function onRelativeImport(name, decide) {
  return {
    name,
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData?.inner || args.namespace !== 'file') return undefined;
        const r = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { inner: true },
        });
        if (r.errors.length > 0 || r.external) return undefined;
        return decide(r.path, args);
      });
    },
  };
}

/** Every export name of each of `files` (one build of them all, which follows `export *`). */
async function exportNames(files) {
  if (files.length === 0) return new Map();
  const r = await build({
    ...COMMON,
    entryPoints: files,
    splitting: true,
    outdir: join(out, 'analysis'),
    write: false,
    metafile: true,
  });
  const names = new Map();
  for (const o of Object.values(r.metafile.outputs)) if (o.entryPoint) names.set(fromMeta(o.entryPoint), o.exports);
  return names;
}

// 1. What the entries export, and which modules their static imports reach (the core).
const entryFiles = Object.values(ENTRIES).map((f) => join(root, f));
const coreSource = (extra) => ({
  contents: entryFiles.map((f) => `export * from ${JSON.stringify(f)};`).join('\n') + extra,
  resolveDir: root,
  sourcefile: 'core.js',
  loader: 'js',
});
const entryExports = await exportNames(entryFiles);
const lazy = new Set();
/** The modules the entries import statically (known after the first build). */
let core = new Set();
const stopAtDynamic = onRelativeImport('stop-at-dynamic-imports', (path, args) => {
  if (args.kind !== 'dynamic-import' || core.has(path)) return undefined; // a core module: import() finds it in core.js
  lazy.add(path);
  return { path: `./${lazyName(path)}.js`, external: true };
});
const first = await build({
  ...COMMON,
  stdin: coreSource(''),
  outfile: join(out, 'core.js'),
  write: false,
  metafile: true,
  plugins: [stopAtDynamic],
});
core = new Set(Object.keys(first.metafile.inputs).map(fromMeta));
for (const file of lazy) if (core.has(file)) lazy.delete(file);

// 2. The lazy code: which core modules it imports (those are taken from core.js, never bundled twice).
const usedFromCore = new Set();
const lazyEntries = () => [...lazy].sort().map((file) => ({ in: file, out: lazyName(file) }));
await build({
  ...COMMON,
  entryPoints: lazyEntries(),
  splitting: true,
  outdir: out,
  write: false,
  plugins: [
    onRelativeImport('find-core-imports', (path) => {
      if (!core.has(path)) return undefined;
      usedFromCore.add(path);
      return { path, external: true };
    }),
  ],
});
const shared = [...usedFromCore].sort();
const sharedNames = await exportNames(shared);
const internalName = (i, name) => `__m${i}$${name}`;

// 3. core.js: the entries' exports, and each core module the lazy code uses under internal names.
rmSync(out, { recursive: true, force: true });
const internalExports = shared
  .map((file, i) => {
    const names = sharedNames.get(file) ?? [];
    if (names.length === 0) return '';
    const list = names.map((n) => `${n} as ${internalName(i, n)}`).join(', ');
    return `\nexport { ${list} } from ${JSON.stringify(file)};`;
  })
  .join('');
await build({ ...COMMON, stdin: coreSource(internalExports), outfile: join(out, 'core.js'), plugins: [stopAtDynamic] });

// 4. The lazy files, and the chunks they share, importing core modules from core.js.
if (lazy.size > 0) {
  await build({
    ...COMMON,
    entryPoints: lazyEntries(),
    splitting: true,
    outdir: out,
    chunkNames: 'lazy-chunk-[hash]',
    plugins: [
      onRelativeImport('take-core-from-core.js', (path) => {
        const i = shared.indexOf(path);
        return i < 0 ? undefined : { path, namespace: 'from-core' };
      }),
      {
        name: 'from-core',
        setup(b) {
          b.onLoad({ filter: /.*/, namespace: 'from-core' }, (args) => {
            const i = shared.indexOf(args.path);
            const names = sharedNames.get(args.path) ?? [];
            const list = names.map((n) => `${internalName(i, n)} as ${n}`).join(', ');
            return { contents: `export { ${list} } from './core.js';`, loader: 'js' };
          });
          b.onResolve({ filter: /^\.\/core\.js$/ }, (args) =>
            args.namespace === 'from-core' ? { path: './core.js', external: true } : undefined,
          );
        },
      },
    ],
  });
}

// 5. The public entries: their exports, from core.js.
for (const [name, file] of Object.entries(ENTRIES)) {
  const names = entryExports.get(join(root, file)) ?? [];
  const target = join(out, `${name}.js`);
  mkdirSync(dirname(target), { recursive: true });
  let from = relative(dirname(target), join(out, 'core.js')).split(sep).join('/');
  if (!from.startsWith('.')) from = `./${from}`;
  writeFileSync(target, `export { ${[...names].sort().join(', ')} } from '${from}';\n`);
}

// 6. The CLI. Its import of the bench suite (bench/run.ts, from src/cli/bench.ts) stays an import of
// tsc's dist/bench/run.js, written relative to cli/chunks/ (where a dynamically imported command
// lands) and checked against the chunk that holds it.
const cliOut = join(out, 'cli');
const benchSource = join(root, 'bench', 'run.ts');
const benchRun = join(dirname(out), 'bench', 'run.js');
const benchSpecifier = relative(join(cliOut, 'chunks'), benchRun).split(sep).join('/');
const cli = await build({
  ...COMMON,
  entryPoints: [{ in: join(root, 'src/cli/main.ts'), out: 'main' }],
  splitting: true,
  outdir: cliOut,
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  plugins: [
    onRelativeImport('bench-stays-tsc', (path) =>
      path === benchSource ? { path: benchSpecifier, external: true } : undefined,
    ),
  ],
});
const benchImports = Object.entries(cli.metafile.outputs).flatMap(([file, output]) =>
  output.imports.filter((imp) => imp.path === benchSpecifier).map(() => resolve(root, dirname(file), benchSpecifier)),
);
if (benchImports.length !== 1 || benchImports[0] !== benchRun) {
  throw new Error(`the CLI must import ${benchRun} once; its imports of the bench lead to: ${benchImports.join(', ')}`);
}
