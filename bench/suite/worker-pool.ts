/** The orchestrator's side of worker processes: fork, send a job, await its result, stop. */
import { fork, type ChildProcess } from 'node:child_process';
import { siblingScript } from '../lib/child-script.js';
import type { NodeJob, NodeJobResult, WorkerReply } from '../contenders/jobs.js';

const WORKER = siblingScript(import.meta.url, 'worker');

export class Worker {
  private child: ChildProcess;
  private nextId = 1;
  private pending = new Map<number, { resolve(r: NodeJobResult): void; reject(e: Error): void }>();
  private readyPromise: Promise<void>;
  private exited = false;
  private readyFailed?: (err: Error) => void;

  /** `script` is the worker module (the bench's own unless a test names another). */
  constructor(
    readonly name: string,
    script: { path: string; execArgv: string[] } = WORKER,
  ) {
    this.child = fork(script.path, [], {
      execArgv: script.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.readyPromise = new Promise((resolve, reject) => {
      this.readyFailed = reject;
      this.child.once('error', reject);
      this.child.on('message', (msg: WorkerReply) => {
        if (msg.type === 'ready') return resolve();
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.type === 'result') p.resolve(msg.result);
        else p.reject(new Error(msg.message));
      });
    });
    // Whoever awaits ready() or run() sees a failure; none goes unhandled when nobody has asked yet.
    this.readyPromise.catch(() => undefined);
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      const err = new Error(`worker ${name} exited (${signal ?? code})`);
      // A worker that dies before it is ready (e.g. its module is missing) must not leave ready() waiting forever.
      this.readyFailed?.(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  async run(job: NodeJob): Promise<NodeJobResult> {
    await this.readyPromise;
    if (this.exited) throw new Error(`worker ${this.name} is gone`);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ type: 'job', id, job });
    });
  }

  stop(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      if (this.child.connected) this.child.disconnect();
      else this.child.kill('SIGTERM');
    });
  }
}
