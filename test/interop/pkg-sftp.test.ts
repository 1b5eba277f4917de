/**
 * Go's pkg/sftp client test suite (Debian's golang-github-pkg-sftp-dev, built offline in GOPATH mode)
 * run against OpenSSH's sftp-server and against `sftp-wire serve --stdio`, both on stdio: every test
 * that passes on OpenSSH's must pass on ours. A missing `go` or missing pkg/sftp sources is a failure
 * (never a skip), in CI and outside it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildGoSuite,
  parseGoTestOutput,
  suiteProblem,
  testExcerpt,
  type GoSuite,
  type SuiteRun,
} from './pkg-sftp/go-suite.js';
import { requireOpenSsh, SFTP_SERVER_PATH } from '../../bench/lib/peers/openssh.js';

/**
 * Tests that pass on OpenSSH's sftp-server and may fail on ours by design, each with the reason.
 * None today: every test that passes there passes here.
 */
const EXCLUDED = new Map<string, string>();

/** Client tests of the suite that only run with -integration: they must run (pass) on OpenSSH's. */
const MUST_RUN = [
  'TestClientLstat',
  'TestClientMkdir',
  'TestClientSymlink',
  'TestClientGetwd',
  'TestClientStatVFS',
  'TestClientReadDir',
  'TestClientWrite',
];

const BUILD_LIMIT_MS = 300_000;
const RUN_LIMIT_MS = 150_000;

// Said as a failing test of its own (the hook below failing too only cancels the tests it serves).
test('Go and the pkg/sftp sources are installed (golang-go, golang-github-pkg-sftp-dev, golang-github-stretchr-testify-dev)', () => {
  assert.equal(suiteProblem(), undefined);
});

describe(
  'pkg/sftp (Go) client integration suite: OpenSSH sftp-server vs serve --stdio',
  { timeout: BUILD_LIMIT_MS + 2 * RUN_LIMIT_MS + 60_000 },
  () => {
    let suite: GoSuite;
    let openssh: SuiteRun;
    let ours: SuiteRun;

    before(async () => {
      requireOpenSsh(SFTP_SERVER_PATH);
      suite = await buildGoSuite(BUILD_LIMIT_MS);
      // one after the other: the machine's cores go to one server at a time
      openssh = await suite.run(SFTP_SERVER_PATH, RUN_LIMIT_MS);
      ours = await suite.run(suite.ourServer, RUN_LIMIT_MS);
    });
    after(() => suite?.cleanup());

    test('the integration tests really ran against OpenSSH and against ours', () => {
      assert.equal(openssh.incomplete, false, `the run on OpenSSH ended early:\n${openssh.output.slice(-3000)}`);
      assert.equal(
        ours.incomplete,
        false,
        `the run on ours ended early (panic or timeout):\n${ours.output.slice(-3000)}`,
      );
      const missing = MUST_RUN.filter((t) => !openssh.passed.has(t));
      assert.deepEqual(missing, [], 'client tests that did not pass on OpenSSH (were they skipped?)');
      // each client test starts its own server; dozens of them
      assert.ok(suite.ourServerStarts() >= 40, `our server was started ${suite.ourServerStarts()} times`);
    });

    test('every test that passes on OpenSSH passes on ours', (t) => {
      const lost = [...openssh.passed].filter((t) => !ours.passed.has(t) && !EXCLUDED.has(t)).sort();
      const report = lost
        .map((t) => `${t}: ${ours.failed.has(t) ? 'FAILED' : 'did not pass'} on ours\n${testExcerpt(ours.output, t)}`)
        .join('\n\n');
      assert.deepEqual(lost, [], `${lost.length} test(s) pass on OpenSSH's sftp-server but not on ours:\n\n${report}`);
      const counts = `OpenSSH ${openssh.passed.size} passed, ${openssh.failed.size} failed; ours ${ours.passed.size} passed, ${ours.failed.size} failed`;
      t.diagnostic(`pkg/sftp suite: ${counts}`);
    });

    test('the excluded tests are still real tests of the suite', () => {
      const unknown = [...EXCLUDED.keys()].filter((t) => !openssh.passed.has(t) && !openssh.failed.has(t));
      assert.deepEqual(unknown, [], 'exclusions that name no test of the suite');
    });
  },
);

test('parseGoTestOutput reads results of tests and subtests from go test -v', () => {
  const out = [
    '=== RUN   TestA',
    '--- PASS: TestA (0.00s)',
    '=== RUN   TestB',
    '    --- FAIL: TestB/sub (0.01s)',
    '--- FAIL: TestB (0.02s)',
    '--- SKIP: TestC (0.00s)',
    'a server line with no newline--- PASS: TestD (0.10s)',
    'FAIL',
  ].join('\n');
  const r = parseGoTestOutput(out);
  assert.deepEqual([...r.passed], ['TestA', 'TestD']);
  assert.deepEqual([...r.failed].sort(), ['TestB', 'TestB/sub']);
  assert.deepEqual([...r.skipped], ['TestC']);
  assert.equal(
    testExcerpt(out, 'TestB'),
    ['=== RUN   TestB', '    --- FAIL: TestB/sub (0.01s)', '--- FAIL: TestB (0.02s)'].join('\n'),
  );
});
