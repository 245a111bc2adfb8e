/**
 * What message authenticity costs per broadcast, on this machine: Ed25519 signing by the origin and
 * verification by every receiver of a new message, through GossipSigner exactly as a node runs it
 * (domain-separated copy of the signed bytes, cached verification key, freshness check). Run:
 * `npx tsc -p tsconfig.bench.json && node dist-bench/bench/signature-cost.js`.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_SEEN_CACHE_MAX_AGE } from '../src/core/broadcast/flood.js';
import { generateIdentity } from '../src/identity/identity.js';
import { GossipSigner, minSeqNow } from '../src/node/gossip-signer.js';

const PAYLOAD_SIZES = [256, 1024, 16 * 1024, 1024 * 1024];
/** Enough operations for a stable median, bounded so that the script ends within seconds. */
const operationsFor = (bytes: number): number =>
  Math.max(200, Math.min(5_000, Math.floor((256 * 1024 * 1024) / bytes)));
const ROUNDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Median over ROUNDS of the mean microseconds per call of `operation`. */
function microsPerCall(count: number, operation: (i: number) => void): number {
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < count; i++) operation(i);
    rounds.push(((performance.now() - start) * 1_000) / count);
  }
  return median(rounds);
}

const origin = generateIdentity();
const signer = new GossipSigner(origin, DEFAULT_SEEN_CACHE_MAX_AGE);
const verifier = new GossipSigner(generateIdentity(), DEFAULT_SEEN_CACHE_MAX_AGE);
console.log('payload bytes | sign µs/msg | verify µs/msg');
for (const bytes of PAYLOAD_SIZES) {
  const payload = new Uint8Array(bytes).fill(7);
  const count = operationsFor(bytes);
  // Fresh per size: seq is the send time, and the verifier drops messages outside its window.
  const seq = minSeqNow();
  const signatures = Array.from({ length: count }, (_, i) => signer.sign(origin.id, seq + i, payload));
  const sign = microsPerCall(count, (i) => signer.sign(origin.id, seq + i, payload));
  const verify = microsPerCall(count, (i) => {
    if (verifier.verify(origin.id, seq + i, payload, signatures[i]) !== 'valid') throw new Error('bug');
  });
  console.log(
    `${String(bytes).padStart(13)} | ${sign.toFixed(1).padStart(11)} | ${verify.toFixed(1).padStart(13)}`,
  );
}
