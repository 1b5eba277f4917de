/** How a bench module is run as a child process: through tsx from sources, plain node when compiled. */
import { fileURLToPath } from 'node:url';

/** The module `name` in the folder of `baseUrl` (the caller's import.meta.url), and node's flags to run it. */
export function siblingScript(baseUrl: string, name: string): { path: string; execArgv: string[] } {
  const fromTs = baseUrl.endsWith('.ts');
  const path = fileURLToPath(new URL(`./${name}.${fromTs ? 'ts' : 'js'}`, baseUrl));
  return { path, execArgv: fromTs ? ['--import', 'tsx'] : [] };
}
