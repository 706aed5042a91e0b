// Preloaded into a Tide process (NODE_OPTIONS=--import <this file>) when a benchmark profiles it:
// Node 20 refuses --cpu-prof in NODE_OPTIONS, so this starts the V8 sampling profiler through the
// inspector and writes <TIDE_BENCH_PROFILE_DIR>/<pid>.cpuprofile when the process exits cleanly.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const directory = process.env.TIDE_BENCH_PROFILE_DIR;
if (directory !== undefined && directory !== '') {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 }); // µs between samples
  session.post('Profiler.start');
  process.once('exit', () => {
    // A session on the same thread answers synchronously, so this runs before the process ends.
    session.post('Profiler.stop', (error, result) => {
      if (error === null && result !== undefined)
        writeFileSync(join(directory, `spu-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
