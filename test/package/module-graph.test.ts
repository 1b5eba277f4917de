// The module graph of src/ (scripts/check-cycles.mjs): no import cycle, type-only imports included,
// and the layer rules. The script is also run on small planted trees, so each rule is seen to fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'check-cycles.mjs');

interface Report {
  cycles: string[][];
  clientLoads: string[];
  problems: Array<{ rule: string; from?: string; to?: string; modules?: string[] }>;
}

function check(root: string): { code: number; report: Report } {
  const r = spawnSync(process.execPath, [SCRIPT, '--json', root], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, report: JSON.parse(r.stdout) as Report };
}

function plant(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'sftp-wire-graph-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

test('src/ has no import cycle and keeps every layer rule; loading the client does not load ssh2', () => {
  const out = execFileSync(process.execPath, [SCRIPT, '--json', ROOT], { encoding: 'utf8', timeout: 60_000 });
  const report = JSON.parse(out) as Report;
  assert.deepEqual(report.cycles, []);
  assert.deepEqual(report.problems, []);
  assert.equal(report.clientLoads.includes('ssh2'), false);
});

test('the check fails on a cycle, also one made only of type imports', () => {
  const root = plant({
    'src/client/core/a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\n",
    'src/client/core/b.ts': "import type { A } from './a.js';\nexport type B = { a?: A };\n",
  });
  try {
    const { code, report } = check(root);
    assert.equal(code, 1);
    assert.deepEqual(report.cycles, [['src/client/core/a.ts', 'src/client/core/b.ts']]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the check fails on each layer rule broken', () => {
  const root = plant({
    'src/protocol/p.ts': "import { x } from '../client/core/x.js';\nexport const p = x;\n",
    'src/client/core/x.ts': "import { t } from '../tree/t.js';\nexport const x = t;\n",
    'src/client/tree/t.ts': 'export const t = 1;\n',
    'src/client/index.ts': "import ssh2 from 'ssh2';\nimport { c } from '../cli/c.js';\nexport const i = [ssh2, c];\n",
    'src/cli/c.ts': "import { t } from '../client/tree/t.js';\nexport const c = t;\n",
    'src/server/s.ts':
      "import { h } from '../../test/h.js';\nimport { k } from '../transport/k.js';\nexport const s = [h, k];\n",
    'src/transport/k.ts': 'export const k = 1;\n',
    'test/h.ts': 'export const h = 1;\n',
  });
  try {
    const { code, report } = check(root);
    assert.equal(code, 1);
    const rules = [...new Set(report.problems.map((p) => `${p.rule}: ${p.from} -> ${p.to}`))].sort();
    assert.deepEqual(rules, [
      'client layers point down (defaults, core < engine < file < tree < client.ts): src/client/core/x.ts -> src/client/tree/t.ts',
      'library never imports src/cli, bench or test: src/client/index.ts -> src/cli/c.ts',
      'library never imports src/cli, bench or test: src/server/s.ts -> test/h.ts',
      'only src/transport imports ssh2: src/client/index.ts -> ssh2',
      'protocol imports only itself: src/protocol/p.ts -> src/client/core/x.ts',
      'src/cli uses the client through src/index.ts or src/advanced.ts: src/cli/c.ts -> src/client/tree/t.ts',
      'src/client loads ssh2 only lazily: src/client/index.ts -> ssh2',
      'src/server never imports src/client or src/transport: src/server/s.ts -> src/transport/k.ts',
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
