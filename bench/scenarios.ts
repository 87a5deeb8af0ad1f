// Named scenarios: the reference suite's four (and its quick variants) plus ours.
export interface Scenario {
  name: string;
  description: string;
  clients: number;
  messages: number;
  rooms: number;
  rate: number; // per client msgs/s, 0 = unpaced
  window: number; // unpaced: max unacknowledged per client, 0 = unlimited
  senders: number; // 0 = all clients send
  nodes: number; // local cluster size (given URLs: the first `nodes` of them)
  kind?: 'load' | 'capacity' | 'memory';
  /**
   * `mod` (the reference): client i joins room i % rooms. With as many rooms as nodes that puts
   * every member of a room on the room's host, so nothing crosses nodes except replication.
   * `block`: consecutive clients share a room, so each room has members on every node and sends
   * from the other nodes are forwarded to the host.
   */
  assign?: 'mod' | 'block';
}

// The reference sleeps 10 ms after each send: about 100 messages/s per client.
const REF_RATE = 100;

const FULL: Scenario[] = [
  { name: 'light', description: 'reference light', clients: 5, messages: 50, rooms: 2, rate: REF_RATE, window: 0, senders: 0, nodes: 3 },
  { name: 'medium', description: 'reference medium', clients: 10, messages: 100, rooms: 3, rate: REF_RATE, window: 0, senders: 0, nodes: 3 },
  { name: 'heavy', description: 'reference heavy', clients: 20, messages: 200, rooms: 5, rate: REF_RATE, window: 0, senders: 0, nodes: 3 },
  { name: 'stress', description: 'reference stress', clients: 50, messages: 100, rooms: 3, rate: REF_RATE, window: 0, senders: 0, nodes: 3 },
  {
    name: 'throughput',
    description: 'target: 30 clients x 50 messages, unpaced (each client keeps up to 8 messages unacknowledged), 3 rooms spanning three nodes',
    clients: 30, messages: 50, rooms: 3, rate: 0, window: 8, senders: 0, nodes: 3, assign: 'block',
  },
  {
    name: 'paced',
    description: 'target: 30 clients at 1.5 messages/s each for 20 s, 3 rooms spanning three nodes',
    clients: 30, messages: 30, rooms: 3, rate: 1.5, window: 0, senders: 0, nodes: 3, assign: 'block',
  },
  {
    name: 'fanout',
    description: 'target: one room with 1000 members on one node; 20 members send 25 messages each, unpaced (1 in flight)',
    clients: 1000, messages: 25, rooms: 1, rate: 0, window: 1, senders: 20, nodes: 1,
  },
  {
    name: 'capacity',
    description: '30 clients, 3 rooms spanning three nodes; the per-client rate rises stage by stage until p99 exceeds the latency bound',
    clients: 30, messages: 0, rooms: 3, rate: 2, window: 0, senders: 0, nodes: 3, kind: 'capacity', assign: 'block',
  },
  {
    name: 'memory',
    description: 'node heap and RSS per idle connection: 1000 connections (then joined to 10 rooms) on one node',
    clients: 1000, messages: 0, rooms: 10, rate: 0, window: 0, senders: 0, nodes: 1, kind: 'memory',
  },
  {
    name: 'memory-10k',
    description: 'node heap and RSS per idle connection at scale: 10000 connections on one node, in no room (rooms 0: no join step)',
    clients: 10000, messages: 0, rooms: 0, rate: 0, window: 0, senders: 0, nodes: 1, kind: 'memory',
  },
];

const QUICK: Record<string, Partial<Scenario>> = {
  light: { messages: 20 },
  medium: { messages: 50 },
  heavy: { messages: 100 },
  throughput: { messages: 20 },
  paced: { messages: 12 },
  fanout: { clients: 500, messages: 10 },
  memory: { clients: 300 },
  'memory-10k': { clients: 3000 },
};

export const SCENARIO_NAMES = FULL.map((s) => s.name);
/** The reference suite's scenarios; `-s all` runs every one. */
export const DEFAULT_SUITE = ['light', 'medium', 'heavy', 'stress'];

export function scenario(name: string, quick: boolean): Scenario | undefined {
  const base = FULL.find((s) => s.name === name);
  if (!base) return undefined;
  if (!quick) return { ...base };
  if (name === 'stress') return undefined; // as in the reference: quick mode has no stress
  return { ...base, ...QUICK[name], description: base.description + ' (quick)' };
}
