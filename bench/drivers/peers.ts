/** Helpers the peer drivers share: version strings of the installed servers and temp folders. */
import { execFileSync } from 'node:child_process';

/** The first line of `command args` (for version strings), or "unknown". */
export function commandOutput(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n')[0]!
      .trim();
  } catch {
    return 'unknown';
  }
}

/** The installed Debian package version, or "unknown". */
export function debianVersion(pkg: string): string {
  // dpkg-query's own format syntax, not a template.
  const format = '-f=$' + '{Version}';
  return commandOutput('dpkg-query', ['-W', format, pkg]);
}
