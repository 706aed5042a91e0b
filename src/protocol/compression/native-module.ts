import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Loads a native (N-API) package, or returns undefined when its binary is missing for this platform,
 * so that a host without one codec can still run everything else; using that codec then fails with a
 * ProtocolError, the way an unsupported codec would.
 */
export function loadNativeModule<T>(name: string): T | undefined {
  try {
    return require(name) as T;
  } catch {
    return undefined;
  }
}

/** Loads a plain JavaScript package that has no type declarations of its own. */
export function loadModule<T>(name: string): T {
  return require(name) as T;
}
