import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatSftpUrl, isSftpUrl, parseSftpUrl } from '../../src/client/url.js';
import { parseBytes } from '../../src/cli/transfer.js';

test('parseSftpUrl: user, host, port, absolute and home-relative paths, IPv6, escapes', () => {
  assert.deepEqual(parseSftpUrl('sftp://alice@example.com:2222/srv/data.csv'), {
    user: 'alice',
    host: 'example.com',
    port: 2222,
    path: '/srv/data.csv',
  });
  assert.deepEqual(parseSftpUrl('sftp://example.com'), { host: 'example.com', port: 22, path: '.' });
  assert.deepEqual(parseSftpUrl('sftp://h/~'), { host: 'h', port: 22, path: '.' });
  assert.deepEqual(parseSftpUrl('sftp://h/~/rel/x'), { host: 'h', port: 22, path: 'rel/x' });
  assert.deepEqual(parseSftpUrl('SFTP://[::1]:2022/a%20b'), { host: '::1', port: 2022, path: '/a b' });
  assert.deepEqual(parseSftpUrl('sftp://us%40er@h/'), { user: 'us@er', host: 'h', port: 22, path: '/' });
  for (const bad of ['http://h/x', 'sftp://', 'sftp://h:0/x', 'sftp://h:99999/x', 'sftp:///x']) {
    assert.throws(() => parseSftpUrl(bad), TypeError, bad);
  }
  assert.equal(isSftpUrl('sftp://h/x'), true);
  assert.equal(isSftpUrl('/local/path'), false);
});

test('formatSftpUrl and parseSftpUrl round-trip', () => {
  const seg = fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.includes('/') && s !== '~' && s !== '.');
  fc.assert(
    fc.property(
      fc.record({
        user: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
        host: fc.oneof(fc.domain(), fc.constant('::1'), fc.ipV4()),
        port: fc.integer({ min: 1, max: 65535 }),
        path: fc.oneof(
          fc.array(seg, { minLength: 1, maxLength: 4 }).map((a) => '/' + a.join('/')),
          fc.array(seg, { minLength: 1, maxLength: 4 }).map((a) => a.join('/')),
          fc.constant('.'),
        ),
      }),
      (u) => {
        const url = { ...u } as { user?: string; host: string; port: number; path: string };
        if (url.user === undefined) delete url.user;
        assert.deepEqual(parseSftpUrl(formatSftpUrl(url)), url);
      },
    ),
  );
});

test('parseBytes: plain numbers and k/m/g suffixes', () => {
  assert.equal(parseBytes('262144'), 262144);
  assert.equal(parseBytes('64k'), 65536);
  assert.equal(parseBytes('1M'), 1048576);
  assert.equal(parseBytes('2GiB'), 2 * 1024 ** 3);
  assert.throws(() => parseBytes('lots'), TypeError);
});
