/**
 * `sftp-wire bench [--quick] [--out DIR] [...]`: the bench suite (bench/run.ts), the same code as
 * `npm run bench`. Against an embedded sftp-wire server on loopback with a generated key by default,
 * plus OpenSSH's sshd, sftp and scp and ssh2's SFTP client where installed.
 */
export async function run(args: string[]): Promise<number> {
  const { runBench } = await import('../../bench/run.js');
  return runBench(args);
}
