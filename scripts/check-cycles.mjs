#!/usr/bin/env node
// The module graph of src/: no import cycles, and the layer rules below. Imports are read with the
// TypeScript compiler's own parser (static imports, re-exports, dynamic import() calls; `import type`
// counts too: a type-only cycle still ties the modules together for a reader and for declaration
// output). Exit code 1 on any violation; `--json` prints the findings for tests and reports.
//
//   node scripts/check-cycles.mjs [--json] [root]
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const args = process.argv.slice(2);
const asJson = args.includes('--json');
const root = resolve(args.find((a) => !a.startsWith('--')) ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const SRC = join(root, 'src');

function listTs(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** Every import of a file: { spec, typeOnly, dynamic }. */
function importsOf(file) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = [];
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const typeOnly =
        !!c &&
        (c.isTypeOnly ||
          (!c.name &&
            !!c.namedBindings &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      out.push({ spec: node.moduleSpecifier.text, typeOnly, dynamic: false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.exportClause;
      const typeOnly =
        node.isTypeOnly ||
        (!!c && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly));
      out.push({ spec: node.moduleSpecifier.text, typeOnly, dynamic: false });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      out.push({ spec: node.arguments[0].text, typeOnly: false, dynamic: true });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      out.push({ spec: node.argument.literal.text, typeOnly: true, dynamic: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** A relative specifier to the .ts file it names ('./x.js' -> x.ts), or undefined for packages. */
function resolveLocal(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const c of [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')])
    if (existsSync(c) && c.endsWith('.ts')) return c;
  return base; // unresolved: reported below
}

const rel = (p) => relative(root, p).split(sep).join('/');
const files = listTs(SRC);
/** file -> [{ to, spec, typeOnly, dynamic }] */
const graph = new Map();
const problems = [];
for (const f of files) {
  const edges = [];
  for (const imp of importsOf(f)) {
    const to = resolveLocal(f, imp.spec);
    if (to !== undefined && !existsSync(to)) problems.push({ rule: 'unresolved', from: rel(f), to: imp.spec });
    edges.push({ ...imp, to: to === undefined ? imp.spec : rel(to) });
  }
  graph.set(rel(f), edges);
}

// ---- cycles: strongly connected components (Tarjan), every edge counted ----
function components(nodes, next) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const c = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        c.push(w);
      } while (w !== v);
      out.push(c.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) strong(v);
  return out;
}
const localNext = (filter) => (v) => (graph.get(v) ?? []).filter((e) => graph.has(e.to) && filter(e)).map((e) => e.to);
const selfLoop = (v) => (graph.get(v) ?? []).some((e) => e.to === v);
const cyclic = (filter) =>
  components([...graph.keys()], localNext(filter)).filter((c) => c.length > 1 || selfLoop(c[0]));
const cycles = cyclic(() => true);
const runtimeCycles = cyclic((e) => !e.typeOnly);
for (const c of cycles) problems.push({ rule: 'cycle', modules: c });

// ---- layer rules ----
/** The layers of src/client, lowest first: an import may only point at the same layer or a lower one. */
function clientRank(p) {
  if (!p.startsWith('src/client/')) return undefined;
  const r = p.slice('src/client/'.length);
  if (r === 'defaults.ts' || r === 'url.ts') return 0;
  if (r.startsWith('core/')) return 1;
  if (r.startsWith('engine/')) return 2;
  if (r.startsWith('file/')) return 3;
  if (r.startsWith('tree/')) return 4;
  return 5; // client.ts (the facade) and index.ts
}
const under = (p, dir) => p.startsWith(`src/${dir}/`);
for (const [from, edges] of graph) {
  for (const e of edges) {
    const to = e.to;
    const isPkg =
      !to.startsWith('src/') &&
      !to.startsWith('bench/') &&
      !to.startsWith('test/') &&
      !to.startsWith('.') &&
      !to.startsWith('/');
    const outside = !isPkg && !to.startsWith('src/');
    if (under(from, 'protocol') && !isPkg && !under(to, 'protocol'))
      problems.push({ rule: 'protocol imports only itself', from, to });
    if (under(from, 'protocol') && isPkg && !to.startsWith('node:'))
      problems.push({ rule: 'protocol imports only itself', from, to });
    if (
      (under(from, 'client') || under(from, 'server') || under(from, 'transport') || under(from, 'protocol')) &&
      (under(to, 'cli') || outside)
    ) {
      problems.push({ rule: 'library never imports src/cli, bench or test', from, to });
    }
    if (from === 'src/index.ts' && (under(to, 'cli') || outside))
      problems.push({ rule: 'library never imports src/cli, bench or test', from, to });
    if (isPkg && (to === 'ssh2' || to.startsWith('ssh2/')) && !under(from, 'transport'))
      problems.push({ rule: 'only src/transport imports ssh2', from, to });
    if ((from === 'src/index.ts' || from === 'src/advanced.ts') && under(to, 'cli'))
      problems.push({ rule: 'library never imports src/cli, bench or test', from, to });
    if (under(from, 'transport') && under(to, 'client'))
      problems.push({ rule: 'src/transport never imports src/client', from, to });
    if (under(from, 'server') && (under(to, 'client') || under(to, 'transport')))
      problems.push({ rule: 'src/server never imports src/client or src/transport', from, to });
    if (under(from, 'cli') && under(to, 'client'))
      problems.push({ rule: 'src/cli uses the client through src/index.ts or src/advanced.ts', from, to });
    const a = clientRank(from);
    const b = clientRank(to);
    if (a !== undefined && b !== undefined && b > a)
      problems.push({ rule: 'client layers point down (defaults, core < engine < file < tree < client.ts)', from, to });
  }
}

// ---- what loading src/client pulls in at run time (static, non-type imports) ----
function runtimeReach(start) {
  const seen = new Set([start]);
  const todo = [start];
  const pkgs = new Set();
  while (todo.length > 0) {
    const v = todo.pop();
    for (const e of graph.get(v) ?? []) {
      if (e.typeOnly || e.dynamic) continue;
      if (graph.has(e.to)) {
        if (!seen.has(e.to)) {
          seen.add(e.to);
          todo.push(e.to);
        }
      } else pkgs.add(e.to);
    }
  }
  return { modules: [...seen].sort(), packages: [...pkgs].sort() };
}
const clientEntry = 'src/client/index.ts';
const clientReach = graph.has(clientEntry) ? runtimeReach(clientEntry) : { modules: [], packages: [] };
if (clientReach.packages.includes('ssh2'))
  problems.push({ rule: 'src/client loads ssh2 only lazily', from: clientEntry, to: 'ssh2' });

const report = {
  modules: graph.size,
  edges: [...graph.values()].reduce((n, e) => n + e.length, 0),
  cycles,
  runtimeCycles,
  clientLoads: clientReach.packages,
  problems,
};
if (asJson) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  process.stdout.write(
    `${report.modules} modules, ${report.edges} imports; ${cycles.length} import cycles (${runtimeCycles.length} without type-only imports)\n`,
  );
  for (const p of problems) {
    if (p.rule === 'cycle') process.stdout.write(`cycle: ${p.modules.join(' <-> ')}\n`);
    else process.stdout.write(`${p.rule}: ${p.from} -> ${p.to}\n`);
  }
}
process.exitCode = problems.length > 0 ? 1 : 0;
