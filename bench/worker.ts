/**
 * A bench worker process: receives jobs over IPC, runs each (see node-jobs.ts) and answers with its
 * timing and the process's peak RSS. One worker serves one contender for one workload, so its peak
 * RSS is that contender's.
 */
import { closeConnections, runNodeJob } from './node-jobs.js';
import type { WorkerReply, WorkerRequest } from './jobs.js';

function send(msg: WorkerReply): void {
  process.send?.(msg);
}

process.on('message', (msg: WorkerRequest) => {
  if (msg?.type !== 'job') return;
  runNodeJob(msg.job).then(
    (r) => send({ type: 'result', id: msg.id, result: { ...r, maxRssBytes: process.resourceUsage().maxRSS * 1024 } }),
    (err: unknown) => send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => {
  closeConnections().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
send({ type: 'ready' });
