/** A TCP endpoint. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const hostPort = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/;

/**
 * Parses `host:port` or `[ipv6]:port`. Port 0 ("pick a free one") is accepted only where a server
 * binds (`allowPortZero`). Returns undefined for anything else, so each caller words its own error.
 */
export function parseHostPort(text: string, options: { allowPortZero?: boolean } = {}): HostPort | undefined {
  const match = hostPort.exec(text.trim());
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > 65_535 || (port === 0 && options.allowPortZero !== true)) return undefined;
  return { host: match[1] ?? match[2]!, port };
}
