#!/usr/bin/env node
// `npm run build` (also run by `npm pack` and `npm publish`): compiles src/ into dist/ as ESM
// JavaScript with .d.ts declarations, the form the published package ships, and records the git
// revision it was built from in dist/build.json, since an installed package has no git history to
// ask. A checkout never needs this: tests, tsx and bin/tide.js run the sources.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');

// Nothing from an earlier build survives: a source file removed since must not ship.
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
// The compiled module asks git itself here, as the checkout has a .git; the package will not.
const { tideRevision } = await import(pathToFileURL(join(dist, 'base', 'version.js')).href);
writeFileSync(join(dist, 'build.json'), `${JSON.stringify({ revision: tideRevision() })}\n`);
