import type { Contender } from './contender.js';
import { libp2pContender } from './libp2p.js';
import { meshcastContender } from './meshcast.js';

/**
 * The contenders `--contenders` can name. `meshcast` is the default configuration, message
 * signatures on (what the CPU target is about); `meshcast-nosig` shows what signing costs.
 */
const CONTENDERS: Record<string, () => Contender> = {
  meshcast: () =>
    meshcastContender('meshcast', 'meshcast, default configuration (Plumtree, Ed25519 signatures on)', {}),
  'meshcast-nosig': () =>
    meshcastContender('meshcast-nosig', 'meshcast, default configuration but message signatures off', {
      signatures: false,
    }),
  flood: () =>
    meshcastContender(
      'flood',
      "plain flooding over meshcast's own links (ProtocolOptions broadcast: 'flood'), signatures on",
      { protocol: { broadcast: 'flood' } },
    ),
  libp2p: libp2pContender,
};

export const CONTENDER_NAMES: readonly string[] = Object.keys(CONTENDERS);

export function contender(name: string): Contender {
  const make = CONTENDERS[name];
  if (!make) throw new Error(`unknown contender "${name}" (known: ${CONTENDER_NAMES.join(', ')})`);
  return make();
}
