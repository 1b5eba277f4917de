/**
 * Asking the person at the terminal for a secret (a password, a key's passphrase): the prompt goes to
 * stderr, the answer is read from stdin in raw mode so that nothing typed is echoed. Only ever on a
 * terminal and never under CI: `canPrompt()` says whether one may ask at all.
 */

import { StringDecoder } from 'node:string_decoder';

/** The input side of a terminal, as process.stdin is on one. */
export interface PromptInput {
  isTTY?: boolean;
  setRawMode?(on: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface PromptOutput {
  write(s: string): unknown;
}

/** Set (not empty, not "0" or "false") in continuous integration services. */
function underCi(env: NodeJS.ProcessEnv): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** Whether a secret may be asked for: stdin is a terminal and this is not a CI run. */
export function canPrompt(input: { isTTY?: boolean } = process.stdin, env: NodeJS.ProcessEnv = process.env): boolean {
  return input.isTTY === true && !underCi(env);
}

/** Thrown when the person at the terminal cancels a prompt (Ctrl-C, or Ctrl-D on an empty line). */
export class PromptCancelled extends Error {
  override readonly name = 'PromptCancelled';
  readonly code = 'ERR_PROMPT_CANCELLED';
  constructor(readonly key: 'ctrl-c' | 'ctrl-d') {
    super(key === 'ctrl-c' ? 'cancelled (Ctrl-C)' : 'cancelled (end of input)');
  }
}

/**
 * Show `prompt` and read one line without echo. Backspace edits; Enter ends the line; Ctrl-U clears
 * it; Ctrl-C rejects with PromptCancelled('ctrl-c'), Ctrl-D on an empty line with PromptCancelled('ctrl-d').
 * The terminal is put back as it was (cooked mode, input paused) whatever happens.
 */
export function readHidden(
  prompt: string,
  input: PromptInput = process.stdin,
  output: PromptOutput = process.stderr,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let line = '';
    const utf8 = new StringDecoder('utf8'); // a character may arrive split across reads
    const done = (result: { ok: string } | { err: Error }): void => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if ('ok' in result) resolve(result.ok);
      else reject(result.err);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of typeof chunk === 'string' ? chunk : utf8.write(chunk)) {
        switch (ch) {
          case '\r':
          case '\n':
            return done({ ok: line });
          case '\u0003':
            return done({ err: new PromptCancelled('ctrl-c') });
          case '\u0004':
            if (line === '') return done({ err: new PromptCancelled('ctrl-d') });
            break;
          case '\u007f':
          case '\b':
            line = [...line].slice(0, -1).join('');
            break;
          case '\u0015':
            line = '';
            break;
          default:
            if (ch >= ' ') line += ch;
        }
      }
    };
    // echo off before the prompt shows: an answer typed the moment it appears is not echoed
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
    output.write(prompt);
  });
}
