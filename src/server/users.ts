import { readFileSync } from 'node:fs';

/** uid -> name and gid -> name from /etc/passwd and /etc/group, read once, empty where unreadable. */
export interface NameTables {
  users: Map<number, string>;
  groups: Map<number, string>;
}

let cached: NameTables | undefined;

function parse(file: string): Map<number, string> {
  const out = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !f[0]) continue;
    const id = Number(f[2]);
    if (Number.isInteger(id) && !out.has(id)) out.set(id, f[0]);
  }
  return out;
}

export function systemNames(): NameTables {
  cached ??= { users: parse('/etc/passwd'), groups: parse('/etc/group') };
  return cached;
}
