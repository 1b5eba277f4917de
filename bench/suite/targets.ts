/**
 * The servers the bench talks to, started and stopped by it: OpenSSH's sshd (own config, keys and
 * port, cipher pinned; where installed) and the embedded sftp-wire server in its own process. Every
 * key is made by ssh2 and written in OpenSSH's format: no ssh-keygen needed. Both serve the same
 * work folder: sshd by absolute path, the embedded server with the work folder as its root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { siblingScript } from '../lib/child-script.js';
import { startSshd, type Sshd } from '../lib/peers/openssh.js';
import { writeEd25519KeyPair as writeKeyPair } from '../../src/index.js';
import { CIPHER, type Endpoint } from '../contenders/jobs.js';
import { startLatencyProxy, delayForRtt, type LatencyProxy } from '../lib/latency-proxy.js';
import type { SshTarget } from '../contenders/clients/openssh-clients.js';
import type { TargetId } from '../contenders/index.js';
import { missingOpenSsh, openSshPrograms } from '../lib/openssh-programs.js';

export interface RunningTarget {
  id: TargetId;
  /** Direct (RTT 0) address. */
  endpoint: Endpoint;
  /** OpenSSH client options for this server (sshd only). */
  sshOptions: string[];
  /** Prefix that turns a work-folder-relative path into the server's name for it. */
  remoteBase: string;
  /** Versions or notes for the report. */
  description: string;
  stop(): Promise<void>;
}

export async function startOpenSshTarget(workDir: string): Promise<RunningTarget> {
  const programs = openSshPrograms();
  const missing = missingOpenSsh(programs, ['sshd', 'sftp-server']);
  if (missing) throw new Error(missing);
  // SHLVL=1 keeps the login shell that starts each session from reading ~/.bashrc (bash does for
  // sessions run by sshd at shell level 1): a heavy rc file would add its time to every session.
  const sshd: Sshd = await startSshd({
    sshdPath: programs.sshd!,
    subsystem: programs['sftp-server']!,
    extraConfig: [`Ciphers ${CIPHER}`, 'Compression no', 'SetEnv SHLVL=1'],
  });
  return {
    id: 'openssh',
    endpoint: { host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.privateKeyPath },
    sshOptions: sshd.sshOptions,
    remoteBase: workDir,
    description: `OpenSSH sshd + sftp-server on 127.0.0.1:${sshd.port}`,
    stop: () => sshd.stop(),
  };
}

/**
 * Start the embedded servers' process: sftp-wire's server (target "embedded") and the raw-channel
 * ssh2 server beside it (target "embedded-raw"). Stopping either stops both.
 */
export async function startEmbeddedTargets(workDir: string): Promise<{ sftp: RunningTarget; raw: RunningTarget }> {
  const keyDir = join(workDir, 'keys');
  mkdirSync(keyDir, { recursive: true });
  // ssh2 makes the key: the embedded server needs nothing but Node.
  const privateKeyPath = writeKeyPair(join(keyDir, 'client_ed25519'), 'sftp-wire-bench');
  const script = siblingScript(import.meta.url, 'embedded-server');
  const child: ChildProcess = spawn(
    process.execPath,
    [...script.execArgv, script.path, workDir, `${privateKeyPath}.pub`],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const ports = await new Promise<{ port: number; rawPort: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        try {
          resolve(JSON.parse(out.slice(0, nl)) as { port: number; rawPort: number });
        } catch (err) {
          reject(err as Error);
        }
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`embedded server exited (${code}): ${stderr.trim().split('\n').slice(0, 3).join(' | ')}`)),
    );
    child.once('error', reject);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    })();
    return stopping;
  };
  const common = { sshOptions: [], remoteBase: '', stop };
  return {
    sftp: {
      ...common,
      id: 'embedded',
      endpoint: { host: '127.0.0.1', port: ports.port, username: 'bench', privateKeyPath },
      description: `sftp-wire SftpServer via startSftpSshServer (ssh2 Server), 127.0.0.1:${ports.port}`,
    },
    raw: {
      ...common,
      id: 'embedded-raw',
      endpoint: { host: '127.0.0.1', port: ports.rawPort, username: 'bench', privateKeyPath },
      description: `ssh2 Server answering only the raw-channel commands, same process, 127.0.0.1:${ports.rawPort}`,
    },
  };
}

/** A target as seen at one RTT: direct at 0, through a latency proxy otherwise. */
export interface TargetAtRtt {
  target: RunningTarget;
  endpoint: Endpoint;
  sshTarget: SshTarget;
  proxy?: LatencyProxy;
}

export async function atRtt(target: RunningTarget, rttMs: number): Promise<TargetAtRtt> {
  let endpoint = target.endpoint;
  let proxy: LatencyProxy | undefined;
  if (rttMs > 0) {
    proxy = await startLatencyProxy({
      target: { host: endpoint.host, port: endpoint.port },
      delayMs: delayForRtt(rttMs),
    });
    endpoint = { ...endpoint, host: proxy.host, port: proxy.port };
  }
  return {
    target,
    endpoint,
    sshTarget: { host: endpoint.host, port: endpoint.port, username: endpoint.username, sshOptions: target.sshOptions },
    proxy,
  };
}
