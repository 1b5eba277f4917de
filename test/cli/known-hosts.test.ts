// known_hosts parsing, matching and the host key policy, checked against OpenSSH's own ssh-keygen
// (-H to hash, -F to look up, -l for fingerprints) and end to end against a real sshd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  hostFieldMatches,
  keyTypeOf,
  knownHostLine,
  knownHostName,
  knownKeyTypes,
  parseKnownHosts,
  wildcardMatch,
} from '../../src/transport/known-hosts.js';
import {
  connectUrl,
  decideHostKey,
  HostKeyError,
  knownHostsCheck,
  parseHostKeyCheck,
  preferredHostKeyAlgorithms,
} from '../../src/cli/connect.js';
import { SftpClient } from '../../src/client/client.js';
import { generateKey, startSshd, type Sshd } from '../../bench/lib/peers/openssh.js';

interface Key {
  path: string;
  pub: string; // "type base64"
  blob: Buffer;
  type: string;
}

function keyFrom(path: string): Key {
  const [type, b64] = readFileSync(`${path}.pub`, 'utf8').trim().split(' ') as [string, string];
  return { path, pub: `${type} ${b64}`, blob: Buffer.from(b64, 'base64'), type };
}

function makeKey(dir: string, name: string, type: 'ed25519' | 'ecdsa' | 'rsa'): Key {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', path], {
    stdio: 'ignore',
  });
  return keyFrom(path);
}

/** OpenSSH's verdict: does `ssh-keygen -F name -f file` find a line? */
function sshKeygenFinds(file: string, name: string): boolean {
  const r = spawnSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('found');
}

let dir: string;
let ed: Key;
let ed2: Key;
let ec: Key;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sftp-wire-known-hosts-'));
  ed = makeKey(dir, 'ed', 'ed25519');
  ed2 = makeKey(dir, 'ed2', 'ed25519');
  ec = makeKey(dir, 'ec', 'ecdsa');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('known_hosts file format', () => {
  test('parse: comments, blank lines, markers, unknown markers, malformed and mismatched lines', () => {
    const text = [
      '# a comment',
      '',
      `host1 ${ed.pub} comment words`,
      `@revoked * ${ec.pub}`,
      `@cert-authority *.example.org ${ed2.pub}`,
      `@weird host2 ${ed.pub}`,
      'host3 ssh-ed25519 not!base64',
      `host4 ecdsa-sha2-nistp256 ${ed.pub.split(' ')[1]}`, // type field does not match the blob
      `  \thost5\t${ec.pub}\r`,
      'host6 only-two-fields',
    ].join('\n');
    const entries = parseKnownHosts(text, '/kh');
    assert.deepEqual(
      entries.map((e) => [e.line, e.marker ?? '', e.hosts, e.keyType]),
      [
        [3, '', 'host1', 'ssh-ed25519'],
        [4, 'revoked', '*', ec.type],
        [5, 'cert-authority', '*.example.org', 'ssh-ed25519'],
        [9, '', 'host5', ec.type],
      ],
    );
    assert.ok(entries[0]!.key.equals(ed.blob));
    assert.equal(entries[0]!.file, '/kh');
  });

  test('keyTypeOf and fingerprint agree with ssh-keygen -l', () => {
    for (const k of [ed, ec]) {
      assert.equal(keyTypeOf(k.blob), k.type);
      const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${k.path}.pub`], { encoding: 'utf8' });
      assert.equal(out.split(' ')[1], fingerprint(k.blob));
    }
    assert.equal(keyTypeOf(Buffer.from([0, 0, 0, 9, 1])), undefined);
    assert.equal(keyTypeOf(Buffer.alloc(2)), undefined);
  });

  test('knownHostName: plain for port 22, [host]:port otherwise, lower case', () => {
    assert.equal(knownHostName('Example.ORG', 22), 'example.org');
    assert.equal(knownHostName('127.0.0.1', 2222), '[127.0.0.1]:2222');
    assert.equal(knownHostName('::1', 2200), '[::1]:2200');
  });

  test('plain patterns (comma lists, ! negation, * and ?, [host]:port) match as ssh-keygen -F finds them', () => {
    const file = join(dir, 'patterns');
    writeFileSync(
      file,
      [
        `host1,*.example.org,!bad.example.org ${ed.pub}`,
        `[10.0.0.1]:2222,10.0.0.?  ${ec.pub}`,
        `[*.internal]:*,!*.secret.internal ${ed2.pub}`,
      ].join('\n') + '\n',
    );
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    const names = [
      'host1',
      'host2',
      'a.example.org',
      'b.a.example.org',
      'bad.example.org',
      'example.org',
      'a.example.org.evil',
      '10.0.0.1',
      '10.0.0.9',
      '10.0.0.10',
      '[10.0.0.1]:2222',
      '[10.0.0.1]:2223',
      '[host1]:2222',
      '[db.internal]:2200',
      '[x.secret.internal]:2200',
      'db.internal',
    ];
    for (const name of names) {
      const ours = entries.some((e) => hostFieldMatches(e.hosts, name));
      assert.equal(ours, sshKeygenFinds(file, name), name);
    }
    // Spot checks of the expected answers (so the oracle itself is not the only witness).
    assert.equal(
      entries.some((e) => hostFieldMatches(e.hosts, 'bad.example.org')),
      false,
    );
    assert.equal(
      entries.some((e) => hostFieldMatches(e.hosts, '[10.0.0.1]:2222')),
      true,
    );
    assert.equal(
      entries.some((e) => hostFieldMatches(e.hosts, '[10.0.0.1]:2223')),
      false,
    );
  });

  test('hashed entries made by ssh-keygen -H match the hashed name only', () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `host1 ${ed.pub}\n[10.0.0.1]:2222 ${ec.pub}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    assert.equal(entries.length, 2);
    assert.ok(entries.every((e) => e.hosts.startsWith('|1|')));
    assert.ok(hostFieldMatches(entries[0]!.hosts, 'host1'));
    assert.ok(!hostFieldMatches(entries[0]!.hosts, 'host2'));
    assert.ok(hostFieldMatches(entries[1]!.hosts, '[10.0.0.1]:2222'));
    assert.ok(!hostFieldMatches(entries[1]!.hosts, '10.0.0.1'));
    assert.ok(!hostFieldMatches(entries[1]!.hosts, '[10.0.0.1]:2223'));
    assert.equal(checkHostKey(entries, 'HOST1', 22, ed.blob).status, 'known');
    assert.equal(checkHostKey(entries, '10.0.0.1', 2222, ec.blob).status, 'known');
    assert.equal(checkHostKey(entries, '10.0.0.1', 22, ec.blob).status, 'unknown');
    // Malformed hashed fields never match.
    assert.ok(!hostFieldMatches('|1|short|short', 'host1'));
    assert.ok(!hostFieldMatches('|2|x|y', 'host1'));
  });

  test('lines written by knownHostLine (plain and hashed) are found by ssh-keygen -F and by us', () => {
    const file = join(dir, 'written');
    writeFileSync(file, '');
    appendKnownHost(file, knownHostLine('192.168.1.5', 22, ed.blob));
    appendKnownHost(file, knownHostLine('Files.Example.org', 2222, ec.blob, { hashed: true }));
    assert.ok(sshKeygenFinds(file, '192.168.1.5'));
    assert.ok(sshKeygenFinds(file, '[files.example.org]:2222'));
    assert.ok(!sshKeygenFinds(file, 'files.example.org'));
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    assert.equal(checkHostKey(entries, '192.168.1.5', 22, ed.blob).status, 'known');
    assert.equal(checkHostKey(entries, 'files.example.org', 2222, ec.blob).status, 'known');
    assert.match(
      readFileSync(file, 'utf8'),
      /^192\.168\.1\.5 ssh-ed25519 AAAA\S+\n\|1\|\S+\|\S+ ecdsa-sha2-nistp256 AAAA\S+\n$/,
    );
  });

  test('appendKnownHost creates the folder 0700 and the file 0600, repairs a missing final newline, returns the line', () => {
    const file = join(dir, 'fresh', 'ssh', 'known_hosts');
    assert.equal(appendKnownHost(file, 'a ssh-ed25519 AAAA'), 1);
    assert.equal(statSync(join(dir, 'fresh', 'ssh')).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    writeFileSync(file, '# c\nx ssh-ed25519 AAAA'); // no final newline
    assert.equal(appendKnownHost(file, 'b ssh-ed25519 BBBB'), 3);
    assert.equal(readFileSync(file, 'utf8'), '# c\nx ssh-ed25519 AAAA\nb ssh-ed25519 BBBB\n');
  });
});

describe('the host key verdict and policy', () => {
  const text = () =>
    [
      `other ${ed.pub}`,
      `[h]:2222 ${ec.pub}`,
      `[h]:2222 ${ed.pub}`,
      `@cert-authority [h]:2222 ${ed2.pub}`,
      `@revoked revoked-host ${ed2.pub}`,
      `revoked-host ${ed2.pub}`,
    ].join('\n');

  test('checkHostKey: known, changed (naming the line of the same key type), unknown, revoked; cert-authority ignored', () => {
    const entries = parseKnownHosts(text(), '/kh');
    const known = checkHostKey(entries, 'h', 2222, ed.blob);
    assert.equal(known.status, 'known');
    assert.equal(known.status === 'known' && known.entry.line, 3);
    const changed = checkHostKey(entries, 'h', 2222, ed2.blob); // only on a @cert-authority line: not a host key
    assert.equal(changed.status, 'changed');
    assert.equal(changed.status === 'changed' && changed.entry.line, 3); // the ed25519 line, not the first
    assert.equal(changed.status === 'changed' && changed.entries.length, 2);
    assert.equal(checkHostKey(entries, 'h', 22, ed.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, 'nobody', 22, ed.blob).status, 'unknown');
    const revoked = checkHostKey(entries, 'revoked-host', 22, ed2.blob);
    assert.equal(revoked.status, 'revoked');
    assert.equal(revoked.status === 'revoked' && revoked.entry.line, 5);
    assert.deepEqual(knownKeyTypes(entries, 'h', 2222), [ec.type, 'ssh-ed25519']);
  });

  test('decideHostKey: a changed key is refused naming file and line, strict refuses the unknown, accept-new records', () => {
    const entries = parseKnownHosts(text(), '/home/u/.ssh/known_hosts');
    const target = { host: 'h', port: 2222 };
    for (const policy of ['strict', 'accept-new'] as const) {
      const d = decideHostKey(entries, target, ed2.blob, policy, '/home/u/.ssh/known_hosts');
      assert.equal(d.accept, false);
      assert.ok(d.error instanceof HostKeyError);
      assert.equal(d.error.code, 'ERR_HOST_KEY_CHANGED');
      assert.match(d.error.message, /HOST KEY CHANGED for \[h\]:2222/);
      assert.match(d.error.message, /\/home\/u\/\.ssh\/known_hosts line 3/);
      assert.ok(d.error.message.includes(fingerprint(ed2.blob)));
      assert.equal(d.record, undefined);
      const r = decideHostKey(entries, { host: 'revoked-host', port: 22 }, ed2.blob, policy, '/kh');
      assert.equal(r.accept, false);
      assert.equal(r.error?.code, 'ERR_HOST_KEY_REVOKED');
      assert.deepEqual(decideHostKey(entries, target, ed.blob, policy, '/kh'), { accept: true });
    }
    const strict = decideHostKey(entries, { host: 'new', port: 22 }, ed.blob, 'strict', '/kh');
    assert.equal(strict.accept, false);
    assert.equal(strict.error?.code, 'ERR_HOST_KEY_UNKNOWN');
    assert.match(strict.error!.message, /no host key for new in \/kh/);
    const fresh = decideHostKey(entries, { host: 'new', port: 2200 }, ed.blob, 'accept-new', '/kh');
    assert.equal(fresh.accept, true);
    assert.equal(fresh.record?.line, `[new]:2200 ${ed.pub}`);
  });

  test('parseHostKeyCheck and preferredHostKeyAlgorithms', () => {
    assert.equal(parseHostKeyCheck(undefined), 'accept-new');
    assert.equal(parseHostKeyCheck('strict'), 'strict');
    assert.equal(parseHostKeyCheck('off'), 'off');
    assert.throws(() => parseHostKeyCheck('yes'), /strict, accept-new or off/);
    assert.equal(preferredHostKeyAlgorithms([]), undefined);
    assert.equal(preferredHostKeyAlgorithms(['ssh-dss']), undefined);
    const rsa = preferredHostKeyAlgorithms(['ssh-rsa'])!;
    assert.deepEqual(rsa.slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.equal(new Set(rsa).size, rsa.length);
    assert.deepEqual(preferredHostKeyAlgorithms(['ecdsa-sha2-nistp256', 'ssh-ed25519'])!.slice(0, 2), [
      'ecdsa-sha2-nistp256',
      'ssh-ed25519',
    ]);
  });
});

describe('matching properties', () => {
  /** Reference: the pattern as an anchored regular expression. */
  function reference(name: string, pattern: string): boolean {
    const re = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    return new RegExp(`^${re}$`, 'is').test(name);
  }
  const chars = fc.constantFrom('a', 'b', 'A', '.', ':', '[', ']');
  const name = fc.string({ unit: chars, maxLength: 10 });
  const pattern = fc.string({ unit: fc.constantFrom('a', 'b', 'B', '.', ':', '[', ']', '*', '?'), maxLength: 8 });

  test('wildcardMatch agrees with a regular-expression reference', () => {
    fc.assert(
      fc.property(name, pattern, (n, p) => wildcardMatch(n, p) === reference(n, p)),
      { numRuns: 3000 },
    );
  });

  test('a matching negated pattern excludes the host whatever else matches; otherwise any positive match includes it', () => {
    fc.assert(
      fc.property(
        name,
        fc.array(
          fc.tuple(
            fc.boolean(),
            pattern.filter((p) => p !== ''),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        (n, pats) => {
          const field = pats.map(([neg, p]) => (neg ? `!${p}` : p)).join(',');
          const negHit = pats.some(([neg, p]) => neg && reference(n, p));
          const posHit = pats.some(([neg, p]) => !neg && reference(n, p));
          return hostFieldMatches(field, n) === (!negHit && posHit);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('host key verification end to end (sshd with an Ed25519 and an RSA host key)', () => {
  let sshd: Sshd;
  let hostEd: Key;
  let hostRsa: Key;
  let work: string;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'sftp-wire-hostkey-'));
    hostRsa = keyFrom(generateKey(join(work, 'host_rsa'), 'rsa'));
    sshd = await startSshd({ extraConfig: [`HostKey ${hostRsa.path}`] });
    hostEd = keyFrom(join(sshd.dir, 'host_ed25519'));
  });
  after(async () => {
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const url = () => ({ host: sshd.host, port: sshd.port, user: sshd.username, path: '.' });
  const name = () => `[${sshd.host}]:${sshd.port}`;

  async function connect(file: string, hostKeyCheck: 'strict' | 'accept-new' | 'off', notices: string[] = []) {
    const client = await connectUrl(url(), {
      identity: sshd.privateKeyPath,
      knownHosts: file,
      globalKnownHosts: [],
      hostKeyCheck,
      notice: (m) => notices.push(m),
    });
    const home = await client.realpath('.');
    await client.end();
    return home;
  }

  test('an unknown host is accepted and recorded (accept-new), then known; strict refuses an unknown host', async () => {
    const file = join(work, 'new', 'known_hosts');
    await assert.rejects(connect(file, 'strict'), (err: unknown) => {
      assert.ok(err instanceof HostKeyError);
      assert.equal(err.code, 'ERR_HOST_KEY_UNKNOWN');
      assert.ok(err.message.includes(file));
      return true;
    });
    assert.throws(() => statSync(file), /ENOENT/);
    const notices: string[] = [];
    assert.equal(typeof (await connect(file, 'accept-new', notices)), 'string');
    assert.equal(notices.length, 1);
    assert.ok(
      notices[0]!.includes(name()) &&
        notices[0]!.includes(fingerprint(hostEd.blob)) &&
        notices[0]!.includes(`${file} line 1`),
      notices[0],
    );
    assert.equal(readFileSync(file, 'utf8'), `${name()} ${hostEd.pub}\n`);
    const again: string[] = [];
    await connect(file, 'strict', again);
    assert.deepEqual(again, []);
    assert.equal(readFileSync(file, 'utf8'), `${name()} ${hostEd.pub}\n`);
  });

  test('a different key on file for the host is refused (both policies) naming the file and line; off ignores it', async () => {
    const file = join(work, 'changed');
    const content = `# first line\n${name()} ${ed.pub}\n`;
    writeFileSync(file, content);
    for (const policy of ['accept-new', 'strict'] as const) {
      await assert.rejects(connect(file, policy), (err: unknown) => {
        assert.ok(err instanceof HostKeyError);
        assert.equal(err.code, 'ERR_HOST_KEY_CHANGED');
        assert.ok(err.message.includes(`${file} line 2`), err.message);
        assert.ok(err.message.includes(fingerprint(hostEd.blob)));
        return true;
      });
    }
    assert.equal(readFileSync(file, 'utf8'), content);
    await connect(file, 'off');
  });

  test('knownHostsCheck with SftpClient.connect directly: records once on commit; off configures nothing', async () => {
    assert.deepEqual(knownHostsCheck({ host: 'h', port: 22 }, { hostKeyCheck: 'off' }).config, {});
    const file = join(work, 'library');
    const check = knownHostsCheck({ host: sshd.host, port: sshd.port }, { knownHosts: file, globalKnownHosts: [] });
    assert.equal(check.commit(), undefined); // nothing decided yet
    const client = await SftpClient.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKey: sshd.privateKey,
      ...check.config,
    });
    await client.end();
    assert.equal(check.refusal(), undefined);
    assert.match(check.commit()!, /added the host key/);
    assert.equal(check.commit(), undefined);
    assert.equal(readFileSync(file, 'utf8'), `${name()} ${hostEd.pub}\n`);
  });

  test('a hashed entry is honoured; a host known only by its RSA key is asked for that key; @revoked refuses', async () => {
    const hashed = join(work, 'hashed');
    writeFileSync(hashed, `${name()} ${hostEd.pub}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/);
    await connect(hashed, 'strict');

    const rsaOnly = join(work, 'rsa-only');
    writeFileSync(rsaOnly, `${name()} ${hostRsa.pub}\n`);
    await connect(rsaOnly, 'strict');

    const revoked = join(work, 'revoked');
    writeFileSync(revoked, `@revoked * ${hostEd.pub}\n${name()} ${hostEd.pub}\n`);
    await assert.rejects(connect(revoked, 'accept-new'), (err: unknown) => {
      assert.ok(err instanceof HostKeyError);
      assert.equal(err.code, 'ERR_HOST_KEY_REVOKED');
      assert.ok(err.message.includes(`${revoked} line 1`));
      return true;
    });
  });
});
