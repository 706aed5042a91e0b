import { createRequire } from 'node:module';
import { ProtocolError } from '../protocol-error.ts';

const require = createRequire(import.meta.url);

/**
 * Loads a native (N-API) package, or returns undefined when its binary is missing for this platform,
 * so that a host without one codec can still run everything else: the codec is then reported
 * unavailable (codecAvailability in compression.ts), refused in topic configs and answered
 * UNSUPPORTED_COMPRESSION_TYPE on produce.
 *
 * `TIDE_NATIVE_MODULES_DISABLED` (a comma-separated list of package names, e.g. `zstd-napi,lz4-napi`)
 * makes this act as if those packages were not installed: how tests and operators check what a host
 * without them does. It is read once, when the codec modules load.
 */
export const nativeModulesDisabledVariable = 'TIDE_NATIVE_MODULES_DISABLED';

const disabled = new Set(
  (process.env[nativeModulesDisabledVariable] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== ''),
);

/** A Kafka codec this host cannot run (its native module did not load): UNSUPPORTED_COMPRESSION_TYPE. */
export class UnsupportedCodecError extends ProtocolError {
  override name = 'UnsupportedCodecError';
}

/** Native packages that were asked for and did not load, in the order they were asked for. */
const missing: string[] = [];

export function loadNativeModule<T>(name: string): T | undefined {
  const packageName = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!;
  try {
    if (disabled.has(packageName))
      throw new Error(`${packageName} disabled by ${nativeModulesDisabledVariable}`);
    return require(name) as T;
  } catch {
    if (!missing.includes(packageName)) missing.push(packageName);
    return undefined;
  }
}

/** The native packages that could not be loaded so far. */
export function missingNativeModules(): readonly string[] {
  return missing;
}

/** Loads a plain JavaScript package that has no type declarations of its own. */
export function loadModule<T>(name: string): T {
  return require(name) as T;
}
