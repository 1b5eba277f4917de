/**
 * A user-space latency proxy: a TCP proxy on 127.0.0.1 that holds every chunk for a fixed delay in each
 * direction before passing it on, in order, with bounded buffering (the source is paused while too much
 * is held). Kernel netem is not available on the bench machines; this gives a link with a known RTT.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LatencyProxyOptions {
  /** Where connections are forwarded. */
  target: { host: string; port: number };
  /** Delay added in each direction, in milliseconds (the added round trip is twice this). */
  delayMs: number;
  /** Address to listen on (default 127.0.0.1) and port (default 0: any free port). */
  host?: string;
  port?: number;
  /** Bytes held per direction before the sending side is paused (default 16 MiB). */
  maxBuffered?: number;
}

export interface LatencyProxy {
  host: string;
  port: number;
  /** Delay added in each direction (ms). */
  delayMs: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Most bytes held at once in one direction of one connection (bounded by about maxBuffered). */
  readonly peakHeld: number;
  /** Stop listening and drop every open connection. */
  close(): Promise<void>;
}

/** Proxy options for a round-trip time: half of it each way. */
export function delayForRtt(rttMs: number): number {
  return rttMs / 2;
}

interface Held {
  due: number;
  chunk: Buffer;
}

/**
 * Moves bytes from `src` to `dst`, each chunk no earlier than `delayMs` after it arrived, in arrival
 * order. Ends `dst` once `src` has ended and everything held was written.
 */
export class DelayedPipe {
  private queue: Held[] = [];
  private head = 0;
  private held = 0;
  private timer: NodeJS.Timeout | null = null;
  private blocked = false;
  private paused = false;
  private ended = false;
  private finished = false;
  /** Largest count of bytes held at once (for tests and reports). */
  peakHeld = 0;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly delayMs: number,
    private readonly maxBuffered: number,
  ) {
    src.on('data', (chunk: Buffer) => this.onData(chunk));
    src.on('end', () => {
      this.ended = true;
      this.pump();
    });
  }

  private onData(chunk: Buffer): void {
    this.queue.push({ due: performance.now() + this.delayMs, chunk });
    this.held += chunk.length;
    if (this.held > this.peakHeld) this.peakHeld = this.held;
    if (this.held >= this.maxBuffered && !this.paused) {
      this.paused = true;
      this.src.pause();
    }
    this.pump();
  }

  /** Write every chunk that is due; then wait for the next one, for drain, or end. */
  private pump(): void {
    if (this.blocked || this.finished) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const now = performance.now();
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      if (item.due > now) break;
      this.queue[this.head++] = undefined as unknown as Held;
      this.held -= item.chunk.length;
      if (!this.dst.write(item.chunk)) {
        this.blocked = true;
        this.dst.once('drain', () => {
          this.blocked = false;
          this.pump();
        });
        break;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.held < this.maxBuffered / 2) {
      this.paused = false;
      this.src.resume();
    }
    if (this.blocked) return;
    if (this.head < this.queue.length) {
      const wait = this.queue[this.head]!.due - performance.now();
      // Timers may fire a little early against performance.now(); pump() checks again and re-arms.
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.pump();
        },
        Math.max(1, Math.ceil(wait)),
      );
    } else if (this.ended) {
      this.finished = true;
      this.dst.end();
    }
  }

  /** Drop anything held (the connection is going away). */
  stop(): void {
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.head = 0;
    this.held = 0;
  }
}

/** Start a latency proxy; resolves once it listens. */
export function startLatencyProxy(opts: LatencyProxyOptions): Promise<LatencyProxy> {
  const delayMs = opts.delayMs;
  if (!(delayMs >= 0)) throw new Error(`delayMs must be >= 0, got ${delayMs}`);
  const maxBuffered = opts.maxBuffered ?? 16 * 1024 * 1024;
  const sockets = new Set<Socket>();
  let connections = 0;
  const pipes = new Set<DelayedPipe>();
  let peakClosed = 0;

  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    connections++;
    // Half-open on both sides: one direction's end must not cut the other, still-delayed direction.
    const upstream = createConnection({ host: opts.target.host, port: opts.target.port, allowHalfOpen: true });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    const up = new DelayedPipe(client, upstream, delayMs, maxBuffered);
    const down = new DelayedPipe(upstream, client, delayMs, maxBuffered);
    pipes.add(up);
    pipes.add(down);
    const teardown = () => {
      peakClosed = Math.max(peakClosed, up.peakHeld, down.peakHeld);
      pipes.delete(up);
      pipes.delete(down);
      up.stop();
      down.stop();
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    // A side that closes without having ended cleanly aborts the pair; otherwise wait for both.
    let ends = 0;
    let closed = 0;
    client.on('end', () => {
      ends++;
    });
    upstream.on('end', () => {
      ends++;
    });
    const onClose = () => {
      if (++closed === 2 || ends < 2) teardown();
    };
    client.on('close', onClose);
    upstream.on('close', onClose);
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      const addr = server.address() as { port: number; address: string };
      resolve({
        host: addr.address,
        port: addr.port,
        delayMs,
        get connections() {
          return connections;
        },
        get peakHeld() {
          return Math.max(peakClosed, ...[...pipes].map((p) => p.peakHeld));
        },
        close() {
          for (const s of sockets) s.destroy();
          sockets.clear();
          return new Promise<void>((res) => server.close(() => res()));
        },
      });
    });
  });
}
