/**
 * `npx tsx bench/render.ts <bench/results/omb-….json>`: validates a result file, rewrites its SVG
 * chart beside it and prints its Markdown section, so a report can be regenerated after the
 * report code changed without running the benchmark again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { chartSvg, markdownSection } from './omb/report.ts';
import { type ResultFile, validateResultFile } from './omb/schema.ts';

const [path] = process.argv.slice(2);
if (path === undefined) {
  process.stderr.write('usage: tsx bench/render.ts <result.json>\n');
  process.exit(2);
}
const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
const problems = validateResultFile(value);
if (problems.length > 0) {
  process.stderr.write(`${path} is not a valid result file:\n${problems.join('\n')}\n`);
  process.exit(1);
}
const file = value as ResultFile;
const svgPath = path.replace(/\.json$/, '.svg');
writeFileSync(svgPath, chartSvg(file));
const root = new URL('../', import.meta.url).pathname;
process.stdout.write(markdownSection(file, { json: relative(root, path), svg: relative(root, svgPath) }));
