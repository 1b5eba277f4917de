/**
 * Codec micro-benchmark: how fast src/protocol encodes and decodes, with no I/O.
 *
 *   node --import tsx bench/codec.ts [--quick] [--out DIR]
 *
 * Cases: 32 KiB WRITE and DATA packets — encode (header only, payload passed on uncopied), decode,
 * and the receiving path: a byte stream cut into 64 KiB socket-sized chunks (packets straddle chunks)
 * pushed through PacketFramer and decoded; NAME with 100 entries — encode and decode, packets/s.
 * Each case runs for a time budget, five rounds; the table shows the median and the range.
 * Results go to bench/results/codec-<time>.json (git-ignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PacketFramer,
  PacketType as T,
  decodePacket,
  encodePacket,
  encodePacketToBuffer,
  formatLongname,
  type NameEntry,
  type Packet,
} from '../src/protocol/index.js';
import { median, mibPerSecond, perSecond, range, formatNumber } from './lib/stats.js';
import { renderTable } from './lib/text-table.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outIdx = args.indexOf('--out');
const outDir =
  outIdx >= 0 && args[outIdx + 1]
    ? path.resolve(args[outIdx + 1]!)
    : path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
const ROUNDS = quick ? 3 : 5;
const BUDGET_MS = quick ? 150 : 600;

const CHUNK = 32 * 1024;
const SOCKET_READ = 64 * 1024;

/** Anything the benchmark loops compute goes here, so the JIT cannot drop the work. */
let sink = 0;

interface CaseResult {
  name: string;
  unit: 'MiB/s' | 'packets/s';
  median: number;
  min: number;
  max: number;
  /** Packets per second (median), for every case. */
  packetsPerSecond: number;
  rounds: number[];
}

/**
 * Run `batch` (which processes `packetsPerBatch` packets carrying `bytesPerBatch` payload bytes)
 * repeatedly for the time budget, ROUNDS times, after a warm-up.
 */
function measure(
  name: string,
  unit: CaseResult['unit'],
  packetsPerBatch: number,
  bytesPerBatch: number,
  batch: () => void,
): CaseResult {
  const runFor = (ms: number) => {
    let batches = 0;
    const start = process.hrtime.bigint();
    const budget = BigInt(ms) * 1_000_000n;
    let elapsed = 0n;
    do {
      batch();
      batches++;
      elapsed = process.hrtime.bigint() - start;
    } while (elapsed < budget);
    return { batches, seconds: Number(elapsed) / 1e9 };
  };
  runFor(BUDGET_MS / 2); // warm-up: let the JIT settle
  const rates: number[] = [];
  const pps: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const { batches, seconds } = runFor(BUDGET_MS);
    pps.push(perSecond(batches * packetsPerBatch, seconds));
    rates.push(
      unit === 'MiB/s' ? mibPerSecond(batches * bytesPerBatch, seconds) : perSecond(batches * packetsPerBatch, seconds),
    );
  }
  const [min, max] = range(rates);
  return { name, unit, median: median(rates), min, max, packetsPerSecond: median(pps), rounds: rates };
}

// ---- 32 KiB WRITE and DATA ----

const payload = Buffer.alloc(CHUNK, 0x61);
const handle = Buffer.from('00000001', 'hex');
const writePacket = (id: number, offset: number): Packet => ({ type: T.WRITE, id, handle, offset, data: payload });
const dataPacket = (id: number): Packet => ({ type: T.DATA, id, data: payload });

/** A stream of `count` encoded packets, cut into socket-sized chunks that do not respect packet edges. */
function socketChunks(make: (i: number) => Packet, count: number): Buffer[] {
  const stream = Buffer.concat(Array.from({ length: count }, (_, i) => encodePacketToBuffer(make(i))));
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += SOCKET_READ) chunks.push(stream.subarray(at, at + SOCKET_READ));
  return chunks;
}

const PACKETS_PER_BATCH = 64; // 2 MiB of payload per batch
const BYTES_PER_BATCH = PACKETS_PER_BATCH * CHUNK;

function bulkCases(kind: 'WRITE' | 'DATA', make: (i: number) => Packet): CaseResult[] {
  const wire = encodePacketToBuffer(make(1)).subarray(4);
  const chunks = socketChunks(make, PACKETS_PER_BATCH);
  let decoded = 0;
  const framer = new PacketFramer({
    onPacket: (p) => {
      const pk = decodePacket(p);
      decoded++;
      sink += pk.type;
    },
  });
  return [
    measure(`${kind} 32 KiB encode (header; payload not copied)`, 'MiB/s', PACKETS_PER_BATCH, BYTES_PER_BATCH, () => {
      for (let i = 0; i < PACKETS_PER_BATCH; i++) sink += encodePacket(make(i))[0]!.length;
    }),
    measure(`${kind} 32 KiB decode`, 'MiB/s', PACKETS_PER_BATCH, BYTES_PER_BATCH, () => {
      for (let i = 0; i < PACKETS_PER_BATCH; i++) sink += decodePacket(wire).type;
    }),
    measure(
      `${kind} 32 KiB encode + copy into one buffer + decode`,
      'MiB/s',
      PACKETS_PER_BATCH,
      BYTES_PER_BATCH,
      () => {
        for (let i = 0; i < PACKETS_PER_BATCH; i++)
          sink += decodePacket(encodePacketToBuffer(make(i)).subarray(4)).type;
      },
    ),
    measure(`${kind} 32 KiB PacketFramer + decode, 64 KiB chunks`, 'MiB/s', PACKETS_PER_BATCH, BYTES_PER_BATCH, () => {
      const before = decoded;
      for (const c of chunks) framer.push(c);
      if (decoded - before !== PACKETS_PER_BATCH) throw new Error('framer lost packets');
    }),
  ];
}

// ---- NAME with 100 entries ----

function nameEntries(n: number): NameEntry[] {
  const now = 1_700_000_000;
  return Array.from({ length: n }, (_, i) => {
    const filename = `file-${String(i).padStart(5, '0')}.dat`;
    const attrs = {
      size: 4096 + i * 37,
      uid: 1000,
      gid: 1000,
      permissions: 0o100644,
      atime: now - i,
      mtime: now - i * 60,
    };
    return { filename, longname: formatLongname(filename, attrs, { now }), attrs };
  });
}
const namePacket: Packet = { type: T.NAME, id: 7, entries: nameEntries(100) };
const nameWire = encodePacketToBuffer(namePacket).subarray(4);
const NAME_BATCH = 50;

function nameCases(): CaseResult[] {
  return [
    measure('NAME 100 entries encode', 'packets/s', NAME_BATCH, NAME_BATCH * nameWire.length, () => {
      for (let i = 0; i < NAME_BATCH; i++) sink += encodePacket(namePacket)[0]!.length;
    }),
    measure('NAME 100 entries decode', 'packets/s', NAME_BATCH, NAME_BATCH * nameWire.length, () => {
      for (let i = 0; i < NAME_BATCH; i++) {
        const p = decodePacket(nameWire);
        if (p.type === T.NAME) sink += p.entries.length;
      }
    }),
  ];
}

// ---- run ----

const results = [
  ...bulkCases('WRITE', (i) => writePacket(i, i * CHUNK)),
  ...bulkCases('DATA', (i) => dataPacket(i)),
  ...nameCases(),
];

const rows = results.map((r) => [
  r.name,
  formatNumber(r.median),
  r.unit,
  `${formatNumber(r.min)}-${formatNumber(r.max)}`,
  formatNumber(r.packetsPerSecond),
]);
process.stdout.write(
  `sftp-wire codec micro-benchmark (${ROUNDS} rounds of ${BUDGET_MS} ms, median; node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length})\n\n` +
    renderTable(['case', 'median', 'unit', 'range', 'packets/s'], rows, { align: ['l', 'r', 'l', 'r', 'r'] }) +
    `\nNAME packet: ${nameWire.length} bytes for 100 entries. (checksum ${sink % 1000})\n`,
);

mkdirSync(outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = path.join(outDir, `codec-${stamp}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      bench: 'codec',
      date: new Date().toISOString(),
      node: process.version,
      cpu: os.cpus()[0]?.model,
      cpus: os.cpus().length,
      quick,
      rounds: ROUNDS,
      budgetMs: BUDGET_MS,
      chunkBytes: CHUNK,
      socketReadBytes: SOCKET_READ,
      nameEntries: 100,
      namePacketBytes: nameWire.length,
      results,
    },
    null,
    2,
  ) + '\n',
);
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
