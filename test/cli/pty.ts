/**
 * Run a command on a real pseudo-terminal (python3's pty module), answering prompts as they appear:
 * for tests of what the CLI does when a person sits at a terminal (password prompts without echo).
 */
import { execFile } from 'node:child_process';

const DRIVER = String.raw`
import json, os, pty, re, select, signal, sys, time
spec = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(spec['argv'][0], spec['argv'], spec['env'])
out = b''
seen = 0
answers = spec['answers']
deadline = time.time() + spec['timeout']
while True:
    if time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        out += b'\n[pty driver: timed out]'
        break
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    if answers and re.search(answers[0][0].encode(), out[seen:]):
        seen = len(out)
        os.write(fd, answers.pop(0)[1].encode())
_, status = os.waitpid(pid, 0)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
sys.stdout.write(json.dumps({'out': out.decode('utf8', 'replace'), 'code': code, 'unanswered': len(answers)}))
`;

export interface PtyRun {
  /** Everything the terminal showed (stdout and stderr together, with \r\n line ends). */
  out: string;
  code: number;
  /** Prompts never seen. */
  unanswered: number;
}

/** Run argv on a pty with env; each [regex, reply] is typed once its regex appears in new output. */
export function runOnPty(
  argv: string[],
  env: NodeJS.ProcessEnv,
  answers: [string, string][],
  timeoutS = 60,
): Promise<PtyRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      ['-c', DRIVER, JSON.stringify({ argv, env, answers, timeout: timeoutS })],
      { maxBuffer: 16 << 20, timeout: (timeoutS + 10) * 1000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`pty driver failed: ${err.message} ${stderr}`));
        resolve(JSON.parse(stdout) as PtyRun);
      },
    );
  });
}
