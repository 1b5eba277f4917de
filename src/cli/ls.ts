// Placeholder until the ls command lands; replaced by its own module.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write('sftp-wire: this command is not built yet\n');
  return 2;
}
