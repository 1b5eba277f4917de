/**
 * A bench worker process: receives jobs over IPC, runs each with its contender's runner for the
 * workload (see contenders/index.ts) and answers with its timing and the process's peak RSS. One
 * worker serves one contender for one workload, so its peak RSS is that contender's.
 */
import { contenderById } from '../contenders/index.js';
import { closeConnections, runOnKeptConnection, type Timed } from '../contenders/clients/worker-session.js';
import type { NodeJob, WorkerReply, WorkerRequest } from '../contenders/jobs.js';

function send(msg: WorkerReply): void {
  process.send?.(msg);
}

/** Run one job; a contender that does not run in a worker, or lacks the workload's runner, is an error. */
async function runJob(job: NodeJob): Promise<Timed> {
  if (job.contender === 'idle') return { seconds: 0 };
  const c = contenderById(job.contender);
  if (!c) throw new Error(`unknown contender ${JSON.stringify(job.contender)}`);
  if (c.runs !== 'worker') throw new Error(`contender ${c.id} does not run in a Node worker`);
  const runner = c.runners[job.workload];
  if (!runner) throw new Error(`contender ${c.id} has no runner for ${job.workload}`);
  return runOnKeptConnection(job, runner);
}

process.on('message', (msg: WorkerRequest) => {
  if (msg?.type !== 'job') return;
  runJob(msg.job).then(
    (r) => send({ type: 'result', id: msg.id, result: { ...r, maxRssBytes: process.resourceUsage().maxRSS * 1024 } }),
    (err: unknown) => send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => {
  closeConnections().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
send({ type: 'ready' });
