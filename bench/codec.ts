/**
 * XML-RPC codec microbenchmark: encode and decode cost of the peer calls that run most often
 * (heartbeat call and response), of a 20-event replication batch, as one JSON string
 * (replicate_events_json) and as 20 structs (replicate_events), and of a 100-message history
 * reply (get_messages, what a join or a gap fill gets back).
 *
 *   npm run bench:codec                                   # the codec in dist/
 *   npm run bench:codec -- --codec dist/codec-before/xmlrpc-codec.js --rounds 5
 *
 * Runs each case in rounds and prints the median µs per operation of every round, so noise from
 * a shared machine shows as a spread instead of hiding in one mean.
 */
import { resolve } from 'node:path';

interface Codec {
  encodeMethodCall(method: string, params: readonly unknown[]): string;
  encodeMethodResponse(value: unknown): string;
  decodeMethodCall(xml: string): { method: string; params: unknown[] };
  decodeMethodResponse(xml: string): unknown;
}

interface Case {
  name: string;
  encode: () => string;
  decode: (xml: string) => unknown;
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const codecPath = resolve(option('--codec') ?? resolve(__dirname, '../common/xmlrpc/xmlrpc-codec.js'));
const rounds = Number(option('--rounds') ?? 5);
const budgetMs = Number(option('--ms') ?? 300);

function event(i: number): Record<string, unknown> {
  return {
    kind: 'message',
    message: {
      message_id: `6f1c2a4e-8d3b-4f7a-9c1e-${String(i).padStart(12, '0')}`,
      room_id: '0b8e7d52-3c4f-4a1b-8e9d-7f6a5b4c3d2e',
      username: `user${i % 7}`,
      content: `message number ${i} with a little <markup> & text, like a real chat line`,
      timestamp: '2026-12-01T20:00:00.000Z',
      sequence_number: 1000 + i,
      node_id: 'node1',
      client_message_id: null,
    },
  };
}

const events = Array.from({ length: 20 }, (_, i) => event(i));
const history = { success: true, messages: Array.from({ length: 100 }, (_, i) => event(i).message), first_sequence: 1000, last_sequence: 1099 };
const heartbeatResult = { status: 'ok', node_id: 'node1', timestamp: '2026-12-01T20:00:00.000Z', boot_id: '3d2e7f6a-5b4c-4a1b-8e9d-0b8e7d523c4f', client_url: 'ws://node1:8080' };

function cases(codec: Codec): Case[] {
  const callCase = (name: string, method: string, params: unknown[]): Case => ({
    name,
    encode: () => codec.encodeMethodCall(method, params),
    decode: (xml) => codec.decodeMethodCall(xml),
  });
  return [
    callCase('heartbeat call', 'heartbeat', []),
    { name: 'heartbeat response', encode: () => codec.encodeMethodResponse(heartbeatResult), decode: (xml) => codec.decodeMethodResponse(xml) },
    callCase('replicate_events_json (20 events)', 'replicate_events_json', ['node1', JSON.stringify(events)]),
    callCase('replicate_events (20 structs)', 'replicate_events', ['node1', events]),
    { name: 'get_messages response (100 messages)', encode: () => codec.encodeMethodResponse(history), decode: (xml) => codec.decodeMethodResponse(xml) },
  ];
}

/** Median µs per call of `fn` over one round of about `budgetMs`. */
function measure(fn: () => unknown): number {
  const samples: number[] = [];
  const until = performance.now() + budgetMs;
  while (performance.now() < until) {
    const batch = 50;
    const started = performance.now();
    for (let i = 0; i < batch; i++) fn();
    samples.push(((performance.now() - started) * 1000) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function range(values: number[]): string {
  const fmt = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0));
  return `${fmt(Math.min(...values))}-${fmt(Math.max(...values))}`;
}

function run(label: string, codec: Codec): void {
  console.log(`\n${label}`);
  console.log(`${'case'.padEnd(36)} ${'bytes'.padStart(6)}  ${'encode µs'.padStart(10)}  ${'decode µs'.padStart(10)}`);
  for (const c of cases(codec)) {
    const xml = c.encode();
    c.decode(xml); // fails loudly here rather than measuring an error path
    for (let i = 0; i < 200; i++) c.decode(c.encode()); // warm the JIT
    const enc: number[] = [];
    const dec: number[] = [];
    for (let r = 0; r < rounds; r++) {
      enc.push(measure(c.encode));
      dec.push(measure(() => c.decode(xml)));
    }
    console.log(`${c.name.padEnd(36)} ${String(Buffer.byteLength(xml)).padStart(6)}  ${range(enc).padStart(10)}  ${range(dec).padStart(10)}`);
  }
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
run(`codec ${codecPath} (${rounds} rounds of ${budgetMs} ms, median per round, min-max)`, require(codecPath) as Codec);
