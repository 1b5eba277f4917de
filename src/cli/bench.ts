/**
 * `sftp-wire bench [--quick] [--out DIR] [--list-contenders] [...]`: the bench suite (bench/run.ts),
 * the same code as `npm run bench`. Needs only Node: against an embedded sftp-wire server on loopback
 * with a key made by ssh2, plus OpenSSH's sshd, sftp and scp (and ssh2's SFTP client against sshd)
 * where OpenSSH is installed. Exit 0 done, 1 the run failed (reasons on stderr), 2 bad arguments.
 */
export async function run(args: string[]): Promise<number> {
  const { runBench } = await import('../../bench/run.js');
  return runBench(args);
}
