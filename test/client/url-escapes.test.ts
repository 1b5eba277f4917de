import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatSftpUrl, parseSftpUrl } from '../../src/client/url.js';

test('parseSftpUrl: a "%" that starts no escape is a TypeError that says how to write it', () => {
  for (const bad of ['sftp://h/100%', 'sftp://h/a%zzb', 'sftp://h/~/x%2', 'sftp://h/%E9', 'sftp://us%er@h/x']) {
    assert.throws(
      () => parseSftpUrl(bad),
      (err: unknown) => err instanceof TypeError && /percent-escape/.test(err.message) && err.message.includes('%25'),
      bad,
    );
  }
  assert.deepEqual(parseSftpUrl('sftp://h/100%25'), { host: 'h', port: 22, path: '/100%' });
});

test('parseSftpUrl: a NUL byte (%00) in the path is refused, not sent', () => {
  assert.throws(
    () => parseSftpUrl('sftp://h/a%00b'),
    (err: unknown) => err instanceof TypeError && /NUL/.test(err.message),
  );
});

test('parseSftpUrl: only a literal /~ is the home directory; %7E is a name "~"', () => {
  assert.deepEqual(parseSftpUrl('sftp://h/~/x'), { host: 'h', port: 22, path: 'x' });
  assert.deepEqual(parseSftpUrl('sftp://h/%7E/x'), { host: 'h', port: 22, path: '/~/x' });
  assert.deepEqual(parseSftpUrl('sftp://h/%7E'), { host: 'h', port: 22, path: '/~' });
  assert.deepEqual(parseSftpUrl('sftp://h/~/%7E'), { host: 'h', port: 22, path: '~' });
});

test('formatSftpUrl and parseSftpUrl round-trip paths whose names are made of "%", escapes, "~", spaces, backslashes and newlines', () => {
  const piece = fc.constantFrom(
    '%',
    '%20',
    '%2F',
    '%25',
    '%7E',
    '~',
    ' ',
    '\\',
    '\n',
    '\t',
    '?',
    '#',
    '+',
    '@',
    ':',
    '.',
    'a',
    'é',
    '🎉',
  );
  const seg = fc
    .array(piece, { minLength: 1, maxLength: 4 })
    .map((a) => a.join(''))
    .filter((s) => s !== '.' && s !== '..');
  fc.assert(
    fc.property(fc.array(seg, { minLength: 1, maxLength: 4 }), fc.boolean(), (names, absolute) => {
      const path = (absolute ? '/' : '') + names.join('/');
      const url = { host: 'example.com', port: 22, path };
      assert.deepEqual(parseSftpUrl(formatSftpUrl(url)), url);
    }),
    { numRuns: 300 },
  );
});
