/**
 * The long fuzz run behind `npm run fuzz`: the same properties as the bounded tests, for longer.
 *
 *   npm run fuzz -- [--seconds N] [--runs N] [--seed N] [--only server,client,jail]
 *
 * Runs the targets in turn, in batches, until each has done --runs cases or the time is up
 * (default: 60 s in total, split evenly). Prints cases, faults injected and memory per target;
 * exits 1 with the seed and counterexample on the first failure.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { checkNextSession, fuzzServer, runServerCase, serverCaseArb } from './server-cases.js';
import { clientCaseArb, runClientCase } from './client-cases.js';
import { JailWorld, jailCaseArb, runJailCase } from '../security/jail-cases.js';

interface Totals {
  cases: number;
  faults: number;
}
interface Target {
  name: string;
  setup(): Promise<void> | void;
  /** One batch of `n` cases; returns the counts. */
  batch(n: number, seed: number): Promise<Totals>;
  teardown(): Promise<void> | void;
}

async function check<T>(
  arb: fc.Arbitrary<T>,
  n: number,
  seed: number,
  run: (v: T) => Promise<number>,
): Promise<Totals> {
  const totals = { cases: 0, faults: 0 };
  const result = await fc.check(
    fc.asyncProperty(arb, async (v) => {
      totals.faults += await run(v);
      totals.cases++;
    }),
    { numRuns: n, seed, endOnFailure: true },
  );
  if (result.failed) {
    console.error(fc.defaultReportMessage(result));
    console.error(result.errorInstance);
    process.exit(1);
  }
  return totals;
}

function targets(): Target[] {
  const temp: string[] = [];
  const tmp = (prefix: string): string => {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix));
    temp.push(d);
    return d;
  };
  const cleanup = (): void => {
    for (const d of temp.splice(0)) rmSync(d, { recursive: true, force: true });
  };
  const serverTarget = (storage: 'memory' | 'local'): Target => {
    let fz = fuzzServer('memory');
    return {
      name: `server/${storage === 'memory' ? 'MemoryFs' : 'LocalFs'}`,
      setup: () => {
        fz = storage === 'memory' ? fuzzServer('memory') : fuzzServer('local', tmp('sftp-wire-fuzz-'));
      },
      batch: (n, seed) =>
        check(serverCaseArb, n, seed, async (c) => {
          const out = await runServerCase(fz, c);
          await checkNextSession(fz);
          return out.faults;
        }),
      teardown: cleanup,
    };
  };
  let world: JailWorld | undefined;
  return [
    serverTarget('memory'),
    serverTarget('local'),
    {
      name: 'client',
      setup: () => undefined,
      batch: (n, seed) => check(clientCaseArb, n, seed, async (c) => (await runClientCase(c)).faults),
      teardown: () => undefined,
    },
    {
      name: 'jail',
      setup: () => {
        world = new JailWorld();
      },
      batch: (n, seed) => check(jailCaseArb, n, seed, async (c) => (await runJailCase(world!, c)).attempts),
      teardown: () => world?.dispose(),
    },
  ];
}

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Heap in use after a full collection, in MiB: flat across batches means nothing is retained per session. */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const runs = values.runs !== undefined ? Number(values.runs) : Infinity;
  const seconds = values.seconds !== undefined ? Number(values.seconds) : values.runs !== undefined ? Infinity : 60;
  let seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
  const only = values.only?.split(',');
  const chosen = targets().filter((t) => !only || only.some((o) => t.name.startsWith(o)));
  if (chosen.length === 0) throw new Error(`no target matches --only ${values.only}`);
  console.log(`fuzz: targets ${chosen.map((t) => t.name).join(', ')}; runs ${runs}; seconds ${seconds}; seed ${seed}`);

  const start = Date.now();
  const mem0 = process.memoryUsage();
  for (const [i, t] of chosen.entries()) {
    const deadline = start + ((i + 1) * seconds * 1000) / chosen.length;
    await t.setup();
    const totals = { cases: 0, faults: 0 };
    const t0 = Date.now();
    let heapFirst: number | undefined;
    while (totals.cases < runs && Date.now() < deadline) {
      const n = Math.min(50, runs - totals.cases);
      const got = await t.batch(n, seed++);
      totals.cases += got.cases;
      totals.faults += got.faults;
      heapFirst ??= heapAfterGc(); // after the first batch: everything is loaded and warm
    }
    const heapLast = heapAfterGc();
    await t.teardown();
    const m = process.memoryUsage();
    console.log(
      `${t.name}: ${totals.cases} cases, ${totals.faults} faults injected, ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
        `heap after GC ${heapFirst?.toFixed(1)} MiB after the first batch -> ${heapLast.toFixed(1)} MiB at the end; rss ${(m.rss / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  const m = process.memoryUsage();
  console.log(
    `fuzz: done in ${((Date.now() - start) / 1000).toFixed(1)} s; heap ${(mem0.heapUsed / 2 ** 20).toFixed(0)} -> ${(m.heapUsed / 2 ** 20).toFixed(0)} MiB, ` +
      `rss ${(mem0.rss / 2 ** 20).toFixed(0)} -> ${(m.rss / 2 ** 20).toFixed(0)} MiB; no failures`,
  );
}

await main();
