import { isPortFree } from '../cli/local-cluster.ts';

/**
 * Ports for test processes that must keep their address across a restart. Everything else binds
 * port 0. A port-0 bind and every outgoing connection take their port from the kernel's ephemeral
 * range (32768–60999 on Linux), so a port handed out there can be taken by another test's socket
 * while its process is down; these come from below that range.
 */
export const stablePortRange = Object.freeze({ min: 20_000, max: 32_000 });

/** A port in `stablePortRange` that nothing listens on now. */
export async function stablePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port =
      stablePortRange.min + Math.floor(Math.random() * (stablePortRange.max - stablePortRange.min));
    if (await isPortFree(port)) return port;
  }
  throw new Error(`no free port in ${stablePortRange.min}–${stablePortRange.max}`);
}

/** `count` distinct stable ports. */
export async function stablePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await stablePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}
