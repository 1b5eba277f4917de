/**
 * The bench suite's entry: `npm run bench` (node --import tsx bench/run.ts) and `sftp-wire bench`.
 * Runs every contender (suite/suite.ts), then the sweep (suite/sweep.ts); prints the tables; writes results.json,
 * table.txt, table.md (both with the sweep's tables) and SVG charts to --out. Exits 0 when the run did
 * its job, 1 with the reasons when it did not (suite/verdict.ts), 2 on a bad command line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { renderContenderList, selectContenders } from './contenders/index.js';
import { Eta } from './suite/eta.js';
import { CIPHER } from './contenders/jobs.js';
import { openSshPrograms } from './lib/openssh-programs.js';
import { HELP, describeSizes, parseOptions, type BenchOptions } from './suite/options.js';
import { jsonSafe, ratioMatrix, renderSummary, summarize } from './suite/report.js';
import { casesOf, runSuite, suiteRunCount } from './suite/suite.js';
import { REFERENCE_NOTE, runSweep, sweepCharts, sweepRunCount, sweepTables } from './suite/sweep.js';
import { formatBytes, formatDuration } from './lib/stats.js';
import { runProblems } from './suite/verdict.js';

function openSshVersion(): string {
  try {
    return (
      execFileSync('ssh', ['-V'], { stdio: ['ignore', 'pipe', 'pipe'] })
        .toString()
        .trim() || execFileSync('sh', ['-c', 'ssh -V 2>&1']).toString().trim()
    );
  } catch {
    return 'not installed';
  }
}

function ssh2Version(): string {
  try {
    return execFileSync(process.execPath, ['-p', "require('ssh2/package.json').version"], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
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
  if (opts.listContenders) {
    process.stdout.write(renderContenderList(openSshPrograms()));
    return 0;
  }
  const started = Date.now();
  const log = (line: string) =>
    process.stderr.write(`bench +${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s ${line}\n`);
  log(
    `profile ${opts.profile}; ${describeSizes(opts)}; ${opts.reps} reps; RTT ${opts.rtts.join(', ')} ms; cipher ${CIPHER}`,
  );
  // The sweep's runs are about --sweep-seconds each plus set-up and verification.
  const eta = new Eta([
    { name: 'suite', units: suiteRunCount(opts) },
    { name: 'sweep', units: sweepRunCount(opts), guessSecondsPerUnit: opts.sweepSeconds + 0.25 },
  ]);

  const suite = await runSuite(opts, log, eta);
  const rows = summarize(suite.samples);
  if (opts.sweep) eta.begin('sweep');
  const sweep = opts.sweep ? await runSweep(opts, log, eta) : null;

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
    `"of limit" = MiB/s / raw SSH channel MiB/s to the same server (${REFERENCE_NOTE}); "sftp-wire x" = speed of sftp-wire -> OpenSSH sftp-server / this row's (MiB/s for LARGE, files/s for SMALL, whole listing for LIST; * = against sftp-wire -> sftp-wire server, where the OpenSSH-server row has no result)`,
  ];

  mkdirSync(opts.out, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(opts.out, name), text);
    files.push(join(opts.out, name));
  };
  const problems = runProblems({ selected: selectContenders(opts.contenders), rows, skipped: suite.skipped, sweep });
  const verdict = problems.length ? `bench FAILED:\n${problems.map((p) => `  ${p}`).join('\n')}\n` : '';
  const sweepText = sweep ? `\n${sweepTables(sweep)}` : '';
  const sweepMd = sweep ? `\n${sweepTables(sweep, true)}` : '';
  write(
    'results.json',
    JSON.stringify(
      jsonSafe({
        header,
        machine,
        node: process.version,
        cipher: CIPHER,
        options: opts,
        targets: suite.targets,
        scpSetupSeconds: suite.scpSetupSeconds,
        skipped: suite.skipped,
        summary: rows,
        ratios: ratioMatrix(rows),
        samples: suite.samples,
        sweep: sweep?.points ?? null,
        sweepSamples: sweep?.samples ?? null,
        sweepSkipped: sweep?.skipped ?? null,
        problems,
        wallSeconds: (Date.now() - started) / 1000,
      }),
      null,
      2,
    ) + '\n',
  );
  write('table.txt', `${header.join('\n')}\n\n${table}${sweepText}${verdict ? `\n${verdict}` : ''}`);
  write(
    'table.md',
    `${header.map((h) => `${h}  `).join('\n')}\n\n${tableMd}${sweepMd}${
      verdict
        ? `\n${verdict
            .split('\n')
            .map((l) => l.replace(/^  /, '- '))
            .join('\n')}`
        : ''
    }`,
  );
  if (sweep) for (const chart of sweepCharts(sweep)) write(chart.name, chart.svg);

  process.stdout.write(`\n${header.join('\n')}\n\n${table}${sweepText}`);
  process.stdout.write(
    `\nwrote ${files.join(', ')}\nbench finished in ${formatDuration((Date.now() - started) / 1000)}\n`,
  );
  if (verdict) process.stderr.write(verdict);
  return problems.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runBench(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
