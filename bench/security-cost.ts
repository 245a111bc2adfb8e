/**
 * The cost of link security, on this machine: `npx tsc -p tsconfig.bench.json && node
 * dist-bench/bench/security-cost.js`. Everything runs on 127.0.0.1 in this process.
 *
 *   1. Link set-up over loopback TCP: a plain TCP connect plus one frame each way (what a link cost
 *      before: the Hello exchange), against a LinkManager link (Noise XX + sealed Hellos).
 *   2. CPU of the handshake alone (both ends, no sockets), open network (XX) and private (XXpsk0).
 *   3. CPU per message: encode + decode (the plaintext work every link does) against encode +
 *      seal + open + decode (what encryption adds), for several payload sizes.
 *   4. For the signatures of a later phase (message authenticity): Ed25519 sign and verify.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { decodeBody, encodeFrame, LENGTH_PREFIX_BYTES } from '../src/codec/index.js';
import { generateIdentity } from '../src/identity/identity.js';
import { networkKeyFromSecret } from '../src/identity/network-key.js';
import { LinkManager } from '../src/transport/link-manager.js';
import { SecureChannel } from '../src/transport/secure-channel.js';

const LINKS = 200;
const HANDSHAKES = 500;
const PAYLOAD_SIZES = [64, 1024, 16 * 1024, 1024 * 1024];
/** Messages per size: enough for a stable figure, bounded so the script ends within seconds. */
const messagesFor = (bytes: number): number =>
  Math.max(50, Math.min(20_000, Math.floor((64 * 1024 * 1024) / bytes)));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

/** CPU microseconds (user + system) spent in `run`, per iteration. */
function cpuMicrosPer(iterations: number, run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

async function plainLinkMs(): Promise<number[]> {
  const hello = encodeFrame({ type: 'hello', id: 'ab'.repeat(32), listenPort: 1 });
  const server = createServer((socket) => {
    socket.once('data', () => socket.end(hello));
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const times: number[] = [];
  for (let i = 0; i < LINKS; i++) {
    const started = performance.now();
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.on('connect', () => socket.write(hello));
    await once(socket, 'data');
    times.push(performance.now() - started);
    socket.destroy();
  }
  server.close();
  return times;
}

async function secureLinkMs(networkKey?: ReturnType<typeof networkKeyFromSecret>): Promise<number[]> {
  const server = new LinkManager({ identity: generateIdentity(), host: '127.0.0.1', port: 0, networkKey });
  const { port } = await server.listen();
  const times: number[] = [];
  for (let i = 0; i < LINKS; i++) {
    const client = new LinkManager({ identity: generateIdentity(), host: '127.0.0.1', port: 0, networkKey });
    const started = performance.now();
    await client.dialAddress(`127.0.0.1:${port}`);
    times.push(performance.now() - started);
    await client.close();
  }
  await server.close();
  return times;
}

function handshakeCpuMicros(psk?: Buffer): number {
  const a = generateIdentity();
  const b = generateIdentity();
  return cpuMicrosPer(HANDSHAKES, () => {
    for (let i = 0; i < HANDSHAKES; i++) {
      const initiator = new SecureChannel(true, a, psk, 1 << 20);
      const responder = new SecureChannel(false, b, psk, 1 << 20);
      let toResponder = initiator.start();
      let toInitiator: Buffer[] = [];
      while (toResponder.length > 0 || toInitiator.length > 0) {
        const next: Buffer[] = [];
        for (const bytes of toResponder)
          for (const e of responder.receive(bytes)) if (e.kind === 'send') toInitiator.push(e.bytes);
        for (const bytes of toInitiator)
          for (const e of initiator.receive(bytes)) if (e.kind === 'send') next.push(e.bytes);
        toInitiator = [];
        toResponder = next;
      }
    }
  });
}

function securedPair(): { sender: SecureChannel; receiver: SecureChannel } {
  const sender = new SecureChannel(true, generateIdentity(), undefined, 2 << 20);
  const receiver = new SecureChannel(false, generateIdentity(), undefined, 2 << 20);
  let toReceiver = sender.start();
  let toSender: Buffer[] = [];
  while (toReceiver.length > 0 || toSender.length > 0) {
    const next: Buffer[] = [];
    for (const bytes of toReceiver)
      for (const e of receiver.receive(bytes)) if (e.kind === 'send') toSender.push(e.bytes);
    for (const bytes of toSender)
      for (const e of sender.receive(bytes)) if (e.kind === 'send') next.push(e.bytes);
    toSender = [];
    toReceiver = next;
  }
  return { sender, receiver };
}

/** Twice: the first pass only warms the JIT up, the second is the figure. */
function perMessage(bytes: number): { plain: number; secure: number } {
  measurePerMessage(bytes);
  return measurePerMessage(bytes);
}

function measurePerMessage(bytes: number): { plain: number; secure: number } {
  const count = messagesFor(bytes);
  const origin = 'cd'.repeat(32);
  const payload = new Uint8Array(bytes).fill(7);
  const message = (seq: number) => ({ type: 'gossip', origin, seq, hops: 0, payload }) as const;
  const plain = cpuMicrosPer(count, () => {
    for (let seq = 0; seq < count; seq++) {
      const frame = encodeFrame(message(seq));
      if (!decodeBody(frame.subarray(LENGTH_PREFIX_BYTES)).ok) throw new Error('decode failed');
    }
  });
  const { sender, receiver } = securedPair();
  const secure = cpuMicrosPer(count, () => {
    for (let seq = 0; seq < count; seq++) {
      const frame = encodeFrame(message(seq));
      for (const event of receiver.receive(sender.seal(frame.subarray(LENGTH_PREFIX_BYTES)))) {
        if (event.kind !== 'plaintext' || !decodeBody(event.body).ok) throw new Error('open failed');
      }
    }
  });
  return { plain, secure };
}

function signatureMicros(): { sign: number; verify: number } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const message = Buffer.alloc(1024, 1);
  const n = 5000;
  let signature = Buffer.alloc(0);
  const signCost = cpuMicrosPer(n, () => {
    for (let i = 0; i < n; i++) signature = sign(null, message, privateKey);
  });
  const verifyCost = cpuMicrosPer(n, () => {
    for (let i = 0; i < n; i++) if (!verify(null, message, publicKey, signature)) throw new Error('bad');
  });
  return { sign: signCost, verify: verifyCost };
}

const ms = (values: number[]): string =>
  `median ${median(values).toFixed(2)} ms, p90 ${percentile(values, 0.9).toFixed(2)} ms`;

async function main(): Promise<void> {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  out(`meshcast security cost (node ${process.version}, ${LINKS} links, loopback)`);
  const plain = await plainLinkMs();
  const open = await secureLinkMs();
  const keyed = await secureLinkMs(networkKeyFromSecret(Buffer.alloc(32, 9)));
  out('');
  out('link set-up, wall time from connect to both sides linked');
  out(`  plain TCP + one frame each way      ${ms(plain)}`);
  out(`  Noise XX + sealed Hello (open)      ${ms(open)}`);
  out(`  Noise XXpsk0 + sealed Hello (keyed) ${ms(keyed)}`);
  out('');
  out('handshake CPU, both ends together, no sockets');
  handshakeCpuMicros(); // JIT warm-up
  out(`  XX      ${handshakeCpuMicros().toFixed(0)} us`);
  out(
    `  XXpsk0  ${handshakeCpuMicros(networkKeyFromSecret(Buffer.alloc(32, 9)).handshakeKey).toFixed(0)} us`,
  );
  out('');
  out('CPU per message (gossip frame), sender and receiver together');
  out('  payload     plain (encode+decode)   secure (+seal+open)   added');
  for (const bytes of PAYLOAD_SIZES) {
    const { plain: p, secure: s } = perMessage(bytes);
    const label = bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
    const mbps = (bytes / (s - p)).toFixed(0);
    out(
      `  ${label.padEnd(10)}  ${p.toFixed(2).padStart(10)} us          ${s.toFixed(2).padStart(10)} us     ${(s - p).toFixed(2)} us (${mbps} MB/s of crypto)`,
    );
  }
  const sig = signatureMicros();
  out('');
  out(
    `Ed25519 per 1 KiB message (for signed messages, a later phase): sign ${sig.sign.toFixed(1)} us, verify ${sig.verify.toFixed(1)} us`,
  );
}

await main();
