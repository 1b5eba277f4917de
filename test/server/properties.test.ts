import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketType as T, OpenFlags } from '../../src/protocol/constants.js';
import { ContiguousTracker } from '../../src/server/atomic/contiguous.js';
import { normalizeVirtual } from '../../src/server/fs/vpath.js';
import { uploadName, partialName, isHiddenUploadName } from '../../src/server/atomic/hidden-names.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { connect } from '../support/raw-client.js';
import { storages } from './helpers/fixtures.js';

describe('server properties', () => {
  it('ContiguousTracker.end is the length of the written prefix, for any order of writes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2000), fc.nat(300)), { maxLength: 60 }), fc.nat(100), (writes, start) => {
        const t = new ContiguousTracker(start);
        const written = new Uint8Array(2400);
        written.fill(1, 0, start);
        for (const [off, len] of writes) {
          t.record(off, len);
          written.fill(1, off, off + len);
        }
        let prefix = 0;
        while (prefix < written.length && written[prefix]) prefix++;
        assert.equal(t.end, prefix);
      }),
    );
  });

  it('normalizeVirtual: absolute, no "." or ".." or empty components, idempotent, never above "/"', () => {
    const segment = fc.oneof(
      fc.constantFrom('..', '.', '', 'a', 'b', '...', '~'),
      fc.string({ maxLength: 4 }).filter((s) => !s.includes('/') && !s.includes('\0')),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 12 }), fc.boolean(), (parts, abs) => {
        const p = (abs ? '/' : '') + parts.join('/');
        const n = normalizeVirtual(p);
        assert.ok(n.startsWith('/'));
        assert.equal(normalizeVirtual(n), n);
        if (n !== '/') {
          for (const c of n.slice(1).split('/')) assert.ok(c !== '' && c !== '.' && c !== '..', n);
        }
      }),
    );
  });

  it('hidden upload names fit in 255 bytes, are hidden, and differ per tag', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 300 }).filter((s) => !s.includes('/') && !s.includes('\0')),
        fc.stringMatching(/^[0-9a-f]{4,12}$/),
        (base, tag) => {
          const u = uploadName(base, tag);
          const p = partialName(base);
          assert.ok(Buffer.byteLength(u) <= 255 && Buffer.byteLength(p) <= 255);
          assert.ok(isHiddenUploadName(u) && isHiddenUploadName(p));
          assert.notEqual(uploadName(base, tag + 'x'), u);
          assert.equal(partialName(base), p);
        },
      ),
    );
  });

  for (const storage of storages) {
    it(`${storage.name}: any sequence of WRITEs and truncations gives the file a model predicts`, async () => {
      const made = storage.make();
      const { client: c, served } = await connect(new SftpServer({ fs: made.fs }));
      let n = 0;
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.oneof(
                fc.record({
                  op: fc.constant('write' as const),
                  off: fc.nat(20_000),
                  data: fc.uint8Array({ maxLength: 3000 }),
                }),
                fc.record({ op: fc.constant('trunc' as const), size: fc.nat(25_000) }),
              ),
              { maxLength: 25 },
            ),
            async (ops) => {
              const path = `/model-${n++}`;
              const h = await c.open(path, OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC);
              let model = Buffer.alloc(0);
              const pending: Promise<unknown>[] = [];
              for (const o of ops) {
                if (o.op === 'write') {
                  const end = o.off + o.data.length;
                  if (o.data.length > 0 && end > model.length)
                    model = Buffer.concat([model, Buffer.alloc(end - model.length)]);
                  Buffer.from(o.data).copy(model, o.off);
                  pending.push(c.request({ type: T.WRITE, handle: h, offset: o.off, data: Buffer.from(o.data) }));
                } else {
                  model =
                    o.size <= model.length
                      ? model.subarray(0, o.size)
                      : Buffer.concat([model, Buffer.alloc(o.size - model.length)]);
                  pending.push(c.request({ type: T.FSETSTAT, handle: h, attrs: { size: o.size } }));
                }
              }
              await Promise.all(pending); // pipelined: per-handle ordering must make this match the model
              assert.deepEqual(await c.readAll(h), model);
              await c.ok({ type: T.CLOSE, handle: h });
              await c.ok({ type: T.REMOVE, path });
            },
          ),
          { numRuns: 40 },
        );
      } finally {
        c.end();
        await served;
        made.cleanup();
      }
    });
  }
});
