import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Both paths are two levels up, so they name the package root from src/base/, from dist/base/ and
// from the CLI's bundle in node_modules/.tide-<hash>/ alike.
const packageRoot = new URL('../../', import.meta.url);

/** Tide's version, from the package manifest. */
export const tideVersion: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The git revision this Tide was built from. A checkout asks git (so it is never stale after a
 * commit); an installed package has no git history and reads what `npm run build` recorded in
 * dist/build.json. 'unknown' when neither answers.
 */
export function tideRevision(): string {
  if (existsSync(new URL('.git', packageRoot))) return checkoutRevision() ?? 'unknown';
  try {
    const build = JSON.parse(readFileSync(new URL('dist/build.json', packageRoot), 'utf8')) as {
      revision?: unknown;
    };
    return typeof build.revision === 'string' ? build.revision : 'unknown';
  } catch {
    return 'unknown';
  }
}

function checkoutRevision(): string | undefined {
  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', fileURLToPath(packageRoot), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? commit : `${commit}-dirty`;
  } catch {
    return undefined; // no git on PATH, or not a repository after all
  }
}
