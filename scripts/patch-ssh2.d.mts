/** Types for patch-ssh2.mjs (a plain script, so that it runs at install time without a build). */
export declare const MARKER: string;
export declare const PATCHES: ReadonlyArray<readonly [string, string]>;
export declare function patchSource(source: string, where?: string): string;
export declare function ssh2KexPath(): string;
