// `sftp-wire serve` raises V8's interrupt budget before the server's modules load (see
// SERVE_INTERRUPT_BUDGET in src/cli/main.ts): a short session then spends its CPU serving rather than
// optimizing the request path. Other commands leave V8's flags alone.
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { main, SERVE_INTERRUPT_BUDGET } from '../../src/cli/main.js';

async function flagsSetBy(argv: string[]): Promise<string[]> {
  const set = mock.method(v8, 'setFlagsFromString', () => undefined);
  const out = mock.method(process.stdout, 'write', () => true);
  const err = mock.method(process.stderr, 'write', () => true);
  try {
    await main(argv);
    return set.mock.calls.map((c) => String(c.arguments[0]));
  } finally {
    set.mock.restore();
    out.mock.restore();
    err.mock.restore();
  }
}

describe('V8 flags of the CLI', () => {
  it('serve sets the interrupt budget, larger than V8 default (132 KiB)', async () => {
    assert.ok(Number.isInteger(SERVE_INTERRUPT_BUDGET) && SERVE_INTERRUPT_BUDGET > 132 * 1024);
    assert.deepEqual(await flagsSetBy(['serve', '--help']), [`--interrupt-budget=${SERVE_INTERRUPT_BUDGET}`]);
  });

  it('other commands set no V8 flag', async () => {
    assert.deepEqual(await flagsSetBy(['ls', '--help']), []);
    assert.deepEqual(await flagsSetBy(['--help']), []);
  });
});
