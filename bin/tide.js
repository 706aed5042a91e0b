#!/usr/bin/env node
// The `tide` command. Installed from the package, it runs the JavaScript that `npm run build`
// compiled into dist/ (the package ships no sources, and needs neither esbuild nor tsx).
// In a checkout there is no build step between an edit and a working CLI: the first run after any
// change to src/ bundles it with esbuild into node_modules/.tide-<content hash>/, and every later
// run loads that bundle directly, which starts several times faster and takes tens of MiB less
// memory than compiling each module on load. Where bundling cannot work (no esbuild, a read-only
// checkout) or TIDE_LOADER=tsx is set, the sources run through tsx's loader instead.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(root, 'src');
const entry = join(sources, 'cli', 'main.ts');
const compiledEntry = join(root, 'dist', 'cli', 'main.js');
// Two levels below the root, like src/<layer>/, so the relative URLs the sources resolve against
// import.meta.url (package.json, bin/tide.js) point at the same files from the bundle.
const buildParent = join(root, 'node_modules');
const buildPrefix = '.tide-';
const staleBuildAgeMs = 10 * 60_000; // an older build nobody uses any more is removed after this

/** A hash of every source file the CLI can load, and of the Node.js version it is built for. */
function sourceHash() {
  const hash = createHash('sha256');
  hash.update(process.version);
  const walk = (dir) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const item of entries) {
      const path = join(dir, item.name);
      if (item.isDirectory()) walk(path);
      else if (item.name.endsWith('.ts') && !item.name.endsWith('.test.ts')) {
        hash.update(path.slice(sources.length));
        hash.update(readFileSync(path));
      }
    }
  };
  walk(sources);
  return hash.digest('hex').slice(0, 16);
}

/** The bundle's entry for the current sources, building it first if needed. */
async function bundledEntry() {
  const buildDir = join(buildParent, `${buildPrefix}${sourceHash()}`);
  const main = join(buildDir, 'main.js');
  if (existsSync(main)) return main;
  const { build } = await import('esbuild');
  // Several processes may start at once on new sources: each builds into its own folder, the first
  // rename wins, and the others use the winner's build.
  const scratch = `${buildDir}.partial-${process.pid}`;
  try {
    await build({
      entryPoints: { main: entry },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      packages: 'external',
      sourcemap: true,
      outdir: scratch,
      logLevel: 'silent',
    });
    renameSync(scratch, buildDir);
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    if (!existsSync(main)) throw error;
  }
  removeStaleBuilds(buildDir);
  return main;
}

function removeStaleBuilds(current) {
  for (const name of readdirSync(buildParent)) {
    const path = join(buildParent, name);
    if (!name.startsWith(buildPrefix) || path === current) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > staleBuildAgeMs)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}

process.setSourceMapsEnabled(true); // stack traces name the .ts sources in a checkout
if (!existsSync(entry)) {
  await import(pathToFileURL(compiledEntry).href);
} else {
  let bundle;
  if (process.env.TIDE_LOADER !== 'tsx') {
    try {
      bundle = await bundledEntry();
    } catch (error) {
      process.stderr.write(
        `tide: running from the sources (could not bundle them: ${error?.message ?? error})\n`,
      );
    }
  }
  if (bundle !== undefined) {
    await import(pathToFileURL(bundle).href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import('../src/cli/main.ts');
  }
}
