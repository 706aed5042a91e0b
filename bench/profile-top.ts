/**
 * `npx tsx bench/profile-top.ts <file.cpuprofile> [count]`: the functions with the most self time
 * in a V8 CPU profile (as written by `node --cpu-prof`), and the same summed per source file, so a
 * benchmark run's hot spots can be named without opening DevTools. Profile the SPUs under a suite
 * with TIDE_BENCH_PROFILE_DIR=DIR (see bench/drivers/tide.ts; written on a clean exit).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotSpot {
  readonly name: string;
  readonly selfMs: number;
  readonly share: number;
}

function shortUrl(url: string): string {
  const at = url.indexOf('/src/');
  if (at >= 0) return url.slice(at + 1);
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules);
  return url === '' ? '(native)' : url.replace(/^file:\/\//, '');
}

/** Self time per key (function or file), largest first. */
export function selfTime(profile: CpuProfile, key: (node: ProfileNode) => string): HotSpot[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const deltaUs = profile.timeDeltas[index] ?? 0;
    if (node === undefined) return;
    totalUs += deltaUs;
    const name = key(node);
    totals.set(name, (totals.get(name) ?? 0) + deltaUs);
  });
  return [...totals.entries()]
    .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, share: totalUs > 0 ? us / totalUs : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

export const byFunction = (node: ProfileNode): string =>
  `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
export const byFile = (node: ProfileNode): string => shortUrl(node.callFrame.url);

function main(): void {
  const [path, countText] = process.argv.slice(2);
  if (path === undefined) {
    process.stderr.write('usage: tsx bench/profile-top.ts <file.cpuprofile> [count]\n');
    process.exitCode = 2;
    return;
  }
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const count = Number(countText ?? 15);
  const print = (title: string, spots: HotSpot[]): void => {
    process.stdout.write(`\n${title}\n`);
    for (const spot of spots.slice(0, count))
      process.stdout.write(
        `${(spot.share * 100).toFixed(1).padStart(5)} %  ${String(spot.selfMs).padStart(9)} ms  ${spot.name}\n`,
      );
  };
  print('self time by function', selfTime(profile, byFunction));
  print('self time by file', selfTime(profile, byFile));
}

if (import.meta.url === `file://${process.argv[1]}`) main();
