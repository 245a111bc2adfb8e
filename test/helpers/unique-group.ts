import { DEFAULT_GROUP } from '../../src/discovery/multicast-options.js';

/**
 * Multicast groups and discovery ports that no concurrently running test file can also hold, by
 * construction rather than by chance: a test that shares a group with another file's test hears its
 * beacons, and then fails or, worse, passes for the wrong reason. vitest numbers the worker
 * processes that run at the same time 1..maxWorkers (VITEST_POOL_ID); each worker counts its own
 * groups in the third and fourth octets.
 */
const WORKER = Number(process.env.VITEST_POOL_ID ?? 1);
if (!Number.isInteger(WORKER) || WORKER < 1 || WORKER > 255) {
  throw new RangeError(
    `VITEST_POOL_ID must be an integer in 1..255 to number multicast groups, got ${WORKER}`,
  );
}

/** Groups a worker can take: the fourth octet, 1..254. */
const GROUPS_PER_WORKER = 254;

/**
 * Discovery ports start here and, with DISCOVERY_PORT_COUNT, end below Linux's ephemeral range
 * (32768 up), so that no socket bound to port 0 holds one.
 */
const DISCOVERY_PORT_BASE = 20_000;

/** How many discovery ports there are: each group of the first 47 workers has its own. */
const DISCOVERY_PORT_COUNT = 12_000;

let taken = 0;

/** The next group of this worker, never the default one that real nodes use. */
function next(): { group: string; index: number } {
  taken++;
  if (taken > GROUPS_PER_WORKER) throw new Error(`a test file used more than ${GROUPS_PER_WORKER} groups`);
  const group = `239.255.${WORKER}.${taken}`;
  if (group === DEFAULT_GROUP) return next();
  return { group, index: (WORKER - 1) * GROUPS_PER_WORKER + taken - 1 };
}

/** A multicast group (239.255.0.0/16, local scope) that no other test uses at the same time. */
export function uniqueGroup(): string {
  return next().group;
}

/** A group and a UDP port that no other test uses at the same time. */
export function uniqueDiscovery(): { group: string; discoveryPort: number } {
  const { group, index } = next();
  return { group, discoveryPort: DISCOVERY_PORT_BASE + (index % DISCOVERY_PORT_COUNT) };
}
