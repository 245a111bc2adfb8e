import type { Contender } from './contender.js';
import { libp2pContender } from './libp2p.js';
import { meshcastContender } from './meshcast.js';

/**
 * The contenders `--contenders` can name. `meshcast` is the default configuration, message
 * signatures on (what the CPU target is about); `meshcast-nosig` shows what signing costs, and
 * `meshcast-noworker` what the signature-checking worker thread costs and buys.
 */
const CONTENDERS: Record<string, () => Contender> = {
  meshcast: () =>
    meshcastContender('meshcast', 'meshcast, default configuration (Plumtree, Ed25519 signatures on)', {}),
  'meshcast-nosig': () =>
    meshcastContender('meshcast-nosig', 'meshcast, default configuration but message signatures off', {
      signatures: false,
    }),
  'meshcast-noworker': () =>
    meshcastContender(
      'meshcast-noworker',
      'meshcast, default configuration but every signature checked on the event loop (verifyThreads: 0)',
      { verifyThreads: 0 },
    ),
  flood: () =>
    meshcastContender(
      'flood',
      "plain flooding over meshcast's own links (ProtocolOptions broadcast: 'flood'), signatures on",
      { protocol: { broadcast: 'flood' } },
    ),
  libp2p: libp2pContender,
};

export const CONTENDER_NAMES: readonly string[] = Object.keys(CONTENDERS);

/** What a run without `--contenders` compares; `meshcast-noworker` runs only when named. */
export const DEFAULT_CONTENDERS: readonly string[] = CONTENDER_NAMES.filter(
  (name) => name !== 'meshcast-noworker',
);

export function contender(name: string): Contender {
  const make = CONTENDERS[name];
  if (!make) throw new Error(`unknown contender "${name}" (known: ${CONTENDER_NAMES.join(', ')})`);
  return make();
}
