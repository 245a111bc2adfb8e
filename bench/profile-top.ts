/**
 * `node dist-bench/bench/profile-top.js FILE.cpuprofile [--top 25]`: the functions that took the
 * most CPU in a V8 profile (written by `npm run bench -- --cpu-prof`), by self time, and the same
 * grouped by package or source folder. Used to explain a missed target.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Default number of rows printed. */
const DEFAULT_TOP = 25;

/** Where a function lives: a node_modules package, a folder of this repository, or Node itself. */
export function origin(url: string): string {
  if (url === '') return '(native/V8)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return url;
  const local = url.match(/\/(src|bench)\/(.+)\/[^/]+$/);
  return local ? `${local[1]}/${local[2]}` : url;
}

export function selfTimes(profile: CpuProfile): {
  byFunction: Map<string, number>;
  byOrigin: Map<string, number>;
  total: number;
} {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame] as const));
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!frame) return;
    total += dt;
    const file = frame.url.split('/').pop() ?? '';
    const name = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + dt);
    const where = origin(frame.url);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + dt);
  });
  return { byFunction, byOrigin, total };
}

function print(title: string, times: Map<string, number>, total: number, top: number): void {
  process.stdout.write(`${title}\n`);
  const rows = [...times].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, us] of rows) {
    process.stdout.write(
      `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}\n`,
    );
  }
}

function main(): void {
  // A reader that stops early (`| head`) closes the pipe: the rest of the listing is not wanted.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) || DEFAULT_TOP : DEFAULT_TOP;
  if (!file) {
    process.stderr.write('usage: profile-top FILE.cpuprofile [--top N]\n');
    process.exitCode = 2;
    return;
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { byFunction, byOrigin, total } = selfTimes(profile);
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n\n`);
  print('self time by function', byFunction, total, top);
  process.stdout.write('\n');
  print('self time by package / folder', byOrigin, total, top);
}

main();
