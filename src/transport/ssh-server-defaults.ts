// The SSH server's default limits, in a module of their own: 'sftp-wire/advanced' exports them without
// loading the SSH server (and ssh2) with them.

/** Connections a server facing the network accepts at once by default. */
export const DEFAULT_MAX_CONNECTIONS = 256;
/** Session channels open at once on one connection by default (OpenSSH's MaxSessions). */
export const DEFAULT_MAX_SESSIONS = 10;
/** Time from accepting a socket to the end of authentication by default (OpenSSH's LoginGraceTime). */
export const DEFAULT_LOGIN_GRACE_MS = 120_000;
/** Connections not authenticated yet, open at once, by default. */
export const DEFAULT_MAX_STARTUPS = 64;
