import { cpus } from 'node:os';

/**
 * How many of the host's cores sat idle, on average, since the previous call: the idle time of
 * every core (os.cpus(), cumulative since boot) over the time that passed. Undefined on the first
 * call, which only takes the baseline, and wherever the host does not report its cores.
 *
 * It counts the whole host, which is the point: a helper thread is worth starting only where a
 * core is free to run it, whoever else keeps the others busy.
 */
export type IdleCoresProbe = () => number | undefined;

export function hostIdleCores(): IdleCoresProbe {
  return idleCoresFrom(readCoreTimes);
}

/** The probe over `read`, which gives the cores' cumulative times or undefined. */
export function idleCoresFrom(read: () => CoreTimes | undefined): IdleCoresProbe {
  let previous: CoreTimes | undefined;
  return () => {
    const now = read();
    const before = previous;
    previous = now;
    if (now === undefined || before === undefined || now.cores !== before.cores) return undefined;
    const elapsedPerCore = (now.total - before.total) / now.cores;
    if (!(elapsedPerCore > 0)) return undefined;
    return (now.idle - before.idle) / elapsedPerCore;
  };
}

export interface CoreTimes {
  readonly cores: number;
  /** Milliseconds, summed over the cores. */
  readonly idle: number;
  readonly total: number;
}

function readCoreTimes(): CoreTimes | undefined {
  const all = cpus();
  if (all.length === 0) return undefined;
  let idle = 0;
  let total = 0;
  for (const { times } of all) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { cores: all.length, idle, total };
}
