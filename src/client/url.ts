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
  // The home directory is the literal "/~" of the URL; an escaped "%7E" is a file named "~".
  let path: string;
  if (!rawPath || rawPath === '/~' || rawPath === '/~/') path = '.';
  else if (rawPath.startsWith('/~/')) path = decodePart(rawPath.slice(3), 'path', s);
  else path = decodePart(rawPath, 'path', s);
  if (path.includes('\0'))
    throw new TypeError(`the path of ${JSON.stringify(s)} holds a NUL byte (%00), which no file name can`);
  const url: SftpUrl = { host, port, path };
  if (rawUser) url.user = decodePart(rawUser, 'user name', s);
  return url;
}

/** decodeURIComponent, with a clear TypeError for a "%" that starts no escape (URIError says only "URI malformed"). */
function decodePart(raw: string, what: string, url: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new TypeError(`bad percent-escape in the ${what} of ${JSON.stringify(url)} (write a literal "%" as %25)`);
  }
}

/** The URL for a location (inverse of parseSftpUrl). */
export function formatSftpUrl(u: SftpUrl): string {
  const host = u.host.includes(':') ? `[${u.host}]` : u.host;
  const user = u.user !== undefined ? `${encodeURIComponent(u.user)}@` : '';
  const port = u.port !== 22 ? `:${u.port}` : '';
  const path = u.path === '.' ? '/~' : u.path.startsWith('/') ? u.path : `/~/${u.path}`;
  // An absolute path whose first name is "~" escapes it, or it would read back as the home directory.
  const segments = path.split('/').map(encodeURIComponent);
  if (u.path.startsWith('/') && segments[1] === '~') segments[1] = '%7E';
  return `sftp://${user}${host}${port}${segments.join('/')}`;
}
