/**
 * The bench suite's entry: `npm run bench` (node --import tsx bench/run.ts) and `sftp-wire bench`.
 * Runs every contender (suite.ts), then the sweep (sweep.ts); prints the table; writes results.json,
 * table.txt, table.md and SVG charts to --out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { CIPHER } from './jobs.js';
import { HELP, describeSizes, parseOptions, type BenchOptions } from './options.js';
import { jsonSafe, ratioMatrix, renderSummary, summarize } from './report.js';
import { casesOf, runSuite } from './suite.js';
import { runSweep, sweepCharts } from './sweep.js';
import { formatBytes, formatDuration } from './stats.js';

function openSshVersion(): string {
  try {
    return execFileSync('ssh', ['-V'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim() ||
      execFileSync('sh', ['-c', 'ssh -V 2>&1']).toString().trim();
  } catch {
    return 'not installed';
  }
}

function ssh2Version(): string {
  try {
    return (execFileSync(process.execPath, ['-p', "require('ssh2/package.json').version"], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
  } catch {
    return 'unknown';
  }
}

/** Run the bench with command-line arguments; returns the exit code. */
export async function runBench(args: string[]): Promise<number> {
  let opts: BenchOptions | null;
  try {
    opts = parseOptions(args);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(HELP);
    return 0;
  }
  const started = Date.now();
  const log = (line: string) => process.stderr.write(`bench +${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s ${line}\n`);
  log(`profile ${opts.profile}; ${describeSizes(opts)}; ${opts.reps} reps; RTT ${opts.rtts.join(', ')} ms; cipher ${CIPHER}`);

  const suite = await runSuite(opts, log);
  const rows = summarize(suite.samples);
  const sweep = opts.sweep ? await runSweep(opts, log) : null;

  const cases = casesOf(opts);
  const table = renderSummary({ rows, skipped: suite.skipped, rtts: opts.rtts, cases });
  const tableMd = renderSummary({ rows, skipped: suite.skipped, rtts: opts.rtts, cases }, true);
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform} ${release()} ${arch()}`;
  const header = [
    `sftp-wire bench (${opts.profile}) ${suite.startedAt}`,
    `machine: ${machine}; node ${process.version}; ssh2 ${ssh2Version()}; ${openSshVersion()}`,
    `cipher ${CIPHER} for every contender; TCP no-delay on ssh2 sockets; median of ${opts.reps} interleaved runs; every result verified (sha256)`,
    describeSizes(opts),
    `time = transfer only (connection set-up excluded; scp: over a master connection, minus the median time of an empty copy); peak RSS = client process (Node: kernel maxRSS of the worker, an idle one peaks at ${suite.idleWorkerRssBytes ? formatBytes(suite.idleWorkerRssBytes) : '?'}; OpenSSH: GNU time, largest of sftp/scp and ssh)`,
    `"of limit" = MiB/s / raw SSH channel MiB/s to the same server; "sftp-wire x" = speed of sftp-wire -> OpenSSH sftp-server / this row's (MiB/s for LARGE, files/s for SMALL, whole listing for LIST; * = against sftp-wire -> sftp-wire server, where the OpenSSH-server row has no result)`,
  ];

  mkdirSync(opts.out, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => { writeFileSync(join(opts.out, name), text); files.push(join(opts.out, name)); };
  write('results.json', JSON.stringify(jsonSafe({
    header, machine, node: process.version, cipher: CIPHER, options: opts, targets: suite.targets,
    scpSetupSeconds: suite.scpSetupSeconds, skipped: suite.skipped, summary: rows, ratios: ratioMatrix(rows),
    samples: suite.samples, sweep: sweep?.points ?? null, wallSeconds: (Date.now() - started) / 1000,
  }), null, 2) + '\n');
  write('table.txt', `${header.join('\n')}\n\n${table}`);
  write('table.md', `${header.map((h) => `${h}  `).join('\n')}\n\n${tableMd}`);
  if (sweep) for (const chart of sweepCharts(sweep)) write(chart.name, chart.svg);

  process.stdout.write(`\n${header.join('\n')}\n\n${table}`);
  if (sweep) process.stdout.write(`\n${sweep.summary}`);
  process.stdout.write(`\nwrote ${files.join(', ')}\nbench finished in ${formatDuration((Date.now() - started) / 1000)}\n`);
  const failed = rows.some((r) => r.errors.length > 0) || (sweep?.points.some((p) => p.error) ?? false);
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runBench(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
