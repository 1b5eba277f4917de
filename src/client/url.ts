/** A remote location: `sftp://[user@]host[:port]/path`. */
export interface SftpUrl {
  user?: string;
  host: string;
  port: number;
  /**
   * The remote path. `sftp://host/abs/path` gives '/abs/path'; `sftp://host/~/rel` gives 'rel'
   * (relative to the login directory); `sftp://host` or `sftp://host/~` gives '.'.
   */
  path: string;
}

export function isSftpUrl(s: string): boolean {
  return /^sftp:\/\//i.test(s);
}

/** Parse an sftp:// URL (percent-escapes decoded; IPv6 hosts in brackets). Throws a TypeError when malformed. */
export function parseSftpUrl(s: string): SftpUrl {
  const m = /^sftp:\/\/(?:([^@/]*)@)?(\[[^\]]+\]|[^:/]+)(?::(\d*))?(\/.*)?$/i.exec(s);
  if (!m) throw new TypeError(`not an sftp:// URL: ${JSON.stringify(s)}`);
  const [, rawUser, rawHost, rawPort, rawPath] = m;
  const port = rawPort ? Number(rawPort) : 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`bad port in ${JSON.stringify(s)}`);
  const host = rawHost!.startsWith('[') ? rawHost!.slice(1, -1) : rawHost!;
  if (!host) throw new TypeError(`no host in ${JSON.stringify(s)}`);
  let path = rawPath ? decodeURIComponent(rawPath) : '/~';
  if (path === '/~' || path === '/~/') path = '.';
  else if (path.startsWith('/~/')) path = path.slice(3);
  const url: SftpUrl = { host, port, path };
  if (rawUser) url.user = decodeURIComponent(rawUser);
  return url;
}

/** The URL for a location (inverse of parseSftpUrl). */
export function formatSftpUrl(u: SftpUrl): string {
  const host = u.host.includes(':') ? `[${u.host}]` : u.host;
  const user = u.user !== undefined ? `${encodeURIComponent(u.user)}@` : '';
  const port = u.port !== 22 ? `:${u.port}` : '';
  const path = u.path === '.' ? '/~' : u.path.startsWith('/') ? u.path : `/~/${u.path}`;
  return `sftp://${user}${host}${port}${path.split('/').map(encodeURIComponent).join('/')}`;
}
