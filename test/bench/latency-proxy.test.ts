import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { startLatencyProxy } from '../../bench/lib/latency-proxy.js';

/** An echo server that half-closes after its peer does. */
function startEcho(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer({ allowHalfOpen: true }, (s) => {
      s.on('data', (d: Buffer) => s.write(d));
      s.on('end', () => s.end());
      s.on('error', () => s.destroy());
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
    s.once('error', reject);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

test('latency proxy adds at least the configured delay each way', async () => {
  const echo = await startEcho();
  const proxy = await startLatencyProxy({ target: { host: '127.0.0.1', port: echo.port }, delayMs: 40 });
  try {
    const s = await connect(proxy.port);
    const rtts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const got = new Promise<Buffer>((resolve) => s.once('data', resolve));
      s.write(Buffer.from(`ping ${i}`));
      assert.equal((await got).toString(), `ping ${i}`);
      rtts.push(performance.now() - t0);
    }
    s.destroy();
    // Lower bound only: a slow machine may add more, never less.
    for (const rtt of rtts) assert.ok(rtt >= 80, `round trip ${rtt.toFixed(1)} ms is below 2 x 40 ms`);
    assert.equal(proxy.connections, 1);
  } finally {
    await proxy.close();
    await closeServer(echo.server);
  }
});

test('latency proxy keeps order and bytes under random chunking, both ways, through half-close', async () => {
  const echo = await startEcho();
  const proxy = await startLatencyProxy({ target: { host: '127.0.0.1', port: echo.port }, delayMs: 1 });
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 40 }),
        async (chunks, pauses) => {
          const s = await connect(proxy.port);
          const received: Buffer[] = [];
          const done = new Promise<void>((resolve, reject) => {
            s.on('data', (d: Buffer) => received.push(d));
            s.on('end', () => resolve());
            s.on('error', reject);
          });
          for (let i = 0; i < chunks.length; i++) {
            s.write(chunks[i]!);
            const p = pauses[i % pauses.length]!;
            if (p > 0) await new Promise((r) => setTimeout(r, p));
          }
          s.end();
          await done;
          s.destroy();
          assert.deepEqual(Buffer.concat(received), Buffer.concat(chunks.map((c) => Buffer.from(c))));
        },
      ),
      { numRuns: 25 },
    );
  } finally {
    await proxy.close();
    await closeServer(echo.server);
  }
});

test('latency proxy bounds what it holds when the far side does not read', async () => {
  const stalled: Socket[] = [];
  const sink = createServer((s) => {
    s.pause();
    stalled.push(s);
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  const port = (sink.address() as { port: number }).port;
  const maxBuffered = 1024 * 1024;
  const proxy = await startLatencyProxy({ target: { host: '127.0.0.1', port }, delayMs: 1, maxBuffered });
  try {
    const s = await connect(proxy.port);
    const block = Buffer.alloc(64 * 1024, 7);
    let written = 0;
    const until = performance.now() + 400;
    while (performance.now() < until) {
      if (!s.write(block)) {
        await new Promise<void>((r) => {
          const done = () => {
            clearTimeout(t);
            s.off('drain', done);
            r();
          };
          const t = setTimeout(done, 20);
          s.once('drain', done);
        });
      }
      written += block.length;
    }
    assert.ok(written > 4 * maxBuffered, 'the writer got well past the bound (so the bound was exercised)');
    assert.ok(proxy.peakHeld > 0);
    assert.ok(proxy.peakHeld <= maxBuffered + 256 * 1024, `held ${proxy.peakHeld} bytes, bound ${maxBuffered}`);
    s.destroy();
  } finally {
    await proxy.close();
    for (const s of stalled) s.destroy();
    await closeServer(sink);
  }
});
