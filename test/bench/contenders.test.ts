// The contender registry: every contender in its own file, registered once, with a runner for each
// workload it claims and none for one it does not; a job the registry cannot run is an error, never
// routed to some other client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONTENDER_IDS, CONTENDERS, contenderById, runsWorkload } from '../../bench/contenders/index.js';
import { defineContender } from '../../bench/contenders/types.js';
import type { Workload } from '../../bench/contenders/jobs.js';
import { Worker } from '../../bench/suite/worker-pool.js';

const WORKLOADS: readonly Workload[] = ['large', 'small', 'wide', 'deep', 'list'];
const DIR = fileURLToPath(new URL('../../bench/contenders/', import.meta.url));
/** Files of bench/contenders that are not a contender. */
const NOT_CONTENDERS = new Set(['index.ts', 'types.ts', 'jobs.ts']);

test('every registered contender has a runner for each workload it claims, and none for another', () => {
  assert.equal(CONTENDERS.length, CONTENDER_IDS.length);
  assert.equal(new Set(CONTENDERS.map((c) => c.id)).size, CONTENDERS.length, 'ids are unique');
  for (const c of CONTENDERS) {
    assert.ok(c.workloads.length > 0, `${c.id} claims no workload`);
    for (const w of WORKLOADS) {
      const has = typeof c.runners[w] === 'function';
      assert.equal(
        has,
        c.workloads.includes(w),
        `${c.id}: runner for ${w} ${has ? 'present but not claimed' : 'missing'}`,
      );
      assert.equal(runsWorkload(c, w), c.workloads.includes(w), `${c.id} ${w}`);
    }
    assert.deepEqual(Object.keys(c.runners).sort(), [...c.workloads].sort(), c.id);
    assert.equal(contenderById(c.id), c);
  }
  assert.equal(contenderById('no-such-contender'), undefined);
});

test('every file in bench/contenders is a registered contender named by its id, and every id has its file', () => {
  const files = readdirSync(DIR, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !NOT_CONTENDERS.has(e.name))
    .map((e) => e.name.slice(0, -3));
  assert.deepEqual(files.sort(), [...CONTENDER_IDS].sort());
});

test('defineContender does not compile without the runner of a claimed workload', () => {
  const noop = async () => ({ seconds: 0 });
  const missing = defineContender({
    id: 'x',
    label: 'x',
    target: 'embedded',
    workloads: ['large', 'small'],
    runs: 'worker',
    // @ts-expect-error: claims 'small' but has no runner for it (tsc in `npm test` fails if this compiles)
    runners: { large: noop },
  });
  const extra = defineContender({
    id: 'y',
    label: 'y',
    target: 'embedded',
    workloads: ['large'],
    runs: 'worker',
    // @ts-expect-error: a runner for 'list', which it does not claim
    runners: { large: noop, list: noop },
  });
  // The registry's own test above is what catches such a definition at run time.
  assert.notDeepEqual(Object.keys(missing.runners).sort(), [...missing.workloads].sort());
  assert.notDeepEqual(Object.keys(extra.runners).sort(), [...extra.workloads].sort());
});

test(
  'a worker refuses a job its contender has no runner for, instead of running another client',
  { timeout: 60_000 },
  async () => {
    const w = new Worker('registry-test');
    try {
      await w.ready();
      const job = {
        workload: 'small' as const,
        direction: 'up' as const,
        endpoint: { host: '127.0.0.1', port: 1, username: 'x', privateKeyPath: '/nonexistent' },
        localPath: '',
        remotePath: '',
      };
      await assert.rejects(w.run({ ...job, contender: 'ssh2-fast' }), /contender ssh2-fast has no runner for small/);
      await assert.rejects(w.run({ ...job, contender: 'scp' }), /contender scp does not run in a Node worker/);
      await assert.rejects(w.run({ ...job, contender: 'nope' as never }), /unknown contender "nope"/);
      assert.equal((await w.run({ ...job, contender: 'idle' })).seconds, 0);
    } finally {
      await w.stop();
    }
  },
);

test(
  'a worker whose module cannot load fails ready() and run() instead of leaving them waiting',
  { timeout: 60_000 },
  async () => {
    const w = new Worker('missing-module', {
      path: fileURLToPath(new URL('./no-such-worker.js', import.meta.url)),
      execArgv: [],
    });
    try {
      await assert.rejects(w.ready(), /worker missing-module exited \(1\)/);
      await assert.rejects(
        w.run({
          contender: 'idle',
          workload: 'large',
          direction: 'up',
          endpoint: { host: '', port: 0, username: '', privateKeyPath: '' },
          localPath: '',
          remotePath: '',
        }),
        /exited/,
      );
    } finally {
      await w.stop();
    }
  },
);
