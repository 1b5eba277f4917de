/** How a bench module is run as a child process: through tsx from sources, plain node when compiled. */
import { fileURLToPath } from 'node:url';

export function siblingScript(name: string): { path: string; execArgv: string[] } {
  const fromTs = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(new URL(`./${name}.${fromTs ? 'ts' : 'js'}`, import.meta.url));
  return { path, execArgv: fromTs ? ['--import', 'tsx'] : [] };
}
