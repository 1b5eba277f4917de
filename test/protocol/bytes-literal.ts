/**
 * Hand-written byte literals for golden tests.
 *
 *   bytes`
 *     00000005        # length 5
 *     01              # SSH_FXP_INIT
 *     00000003        # version 3
 *     "abc"           # ASCII text, for the contents of a string field
 *   `
 *
 * Hex digits (whitespace ignored), `"..."` for ASCII text, `#` starts a comment to the end of the line.
 * Every length field stays hand-written hex; only the text inside strings may be spelled as text.
 */
export function bytes(strings: TemplateStringsArray, ...values: unknown[]): Buffer {
  if (values.length > 0) throw new Error('bytes`...`: no interpolation, write the bytes out');
  const src = strings.raw.join('');
  const out: number[] = [];
  for (const line of src.split('\n')) {
    let i = 0;
    let hex = '';
    const flushHex = () => {
      if (hex.length % 2 !== 0)
        throw new Error(`bytes\`...\`: odd number of hex digits before ${JSON.stringify(line.slice(i))}`);
      for (let k = 0; k < hex.length; k += 2) out.push(parseInt(hex.slice(k, k + 2), 16));
      hex = '';
    };
    while (i < line.length) {
      const c = line[i]!;
      if (c === '#') break;
      if (c === '"') {
        flushHex();
        const close = line.indexOf('"', i + 1);
        if (close < 0) throw new Error(`bytes\`...\`: unclosed text in ${JSON.stringify(line)}`);
        for (const b of Buffer.from(line.slice(i + 1, close), 'latin1')) out.push(b);
        i = close + 1;
        continue;
      }
      if (/\s/.test(c)) {
        i++;
        continue;
      }
      if (!/[0-9a-fA-F]/.test(c))
        throw new Error(`bytes\`...\`: unexpected ${JSON.stringify(c)} in ${JSON.stringify(line)}`);
      hex += c;
      i++;
    }
    flushHex();
  }
  return Buffer.from(out);
}
