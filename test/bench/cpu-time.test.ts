import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { withCpuTime } from '../../bench/lib/process-timing.js';
import { tempDir } from '../support/temp-dir.js';

const hasPerf = ((): boolean => {
  try {
    execFileSync('perf', ['stat', '-x,', '-e', 'user_time,system_time', 'true'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

/** withCpuTime of a node child that spins for about `ms` of user time, with SFTP_WIRE_BENCH_CPU set to `mode`. */
function spin(work: string, mode: string, ms: number): number {
  const before = process.env.SFTP_WIRE_BENCH_CPU;
  process.env.SFTP_WIRE_BENCH_CPU = mode;
  try {
    const t = withCpuTime(work, [process.execPath, '-e', `const t=Date.now();while(Date.now()-t<${ms});`]);
    const r = spawnSync(t.cmd[0]!, t.cmd.slice(1), { stdio: 'pipe' });
    assert.equal(r.status, 0, r.stderr.toString());
    return t.cpu();
  } finally {
    if (before === undefined) delete process.env.SFTP_WIRE_BENCH_CPU;
    else process.env.SFTP_WIRE_BENCH_CPU = before;
  }
}

describe('withCpuTime under perf stat (SFTP_WIRE_BENCH_CPU=perf, perf-user)', { skip: !hasPerf && 'no perf' }, () => {
  const t = tempDir();
  after(() => t.cleanup());

  it("gives the child's CPU seconds from perf stat, user time alone with perf-user", () => {
    const all = spin(t.dir, 'perf', 200);
    const user = spin(t.dir, 'perf-user', 200);
    assert.ok(all > 0.15 && all < 5, `${all}`);
    assert.ok(user > 0.1 && user < 5, `${user}`);
  });
});
