import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { NODE_CONFIG } from '../../common/config/node-config';
import { deferred } from '../../testing/deferred';
import { FakeClock } from '../../testing/fakes';
import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';
import { PeerDirectory, type PeerStatusListener } from './peer-directory';
import type { ForwardItem, ReplicationEvent } from '../../common/protocol/peer-wire';

async function eventually(probe: () => boolean, timeoutMs = 2000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !probe(); ) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Records every status change it is told about, as `<change> <node>`. */
class RecordingListener implements PeerStatusListener {
  readonly heard: string[] = [];
  onPeerFailed(nodeId: string): void {
    this.heard.push(`failed ${nodeId}`);
  }
  onPeerReachable(nodeId: string): void {
    this.heard.push(`reachable ${nodeId}`);
  }
  onPeerRestarted(nodeId: string): void {
    this.heard.push(`restarted ${nodeId}`);
  }
}

// Nothing listens on port 1; these specs never make a call.
const config = loadConfig({ NODE_ID: 'node1', PEER_NODES: 'node2:http://127.0.0.1:1,node3:http://127.0.0.1:1', MAX_HEARTBEAT_FAILURES: '2' });

describe(PeerDirectory.name, () => {
  let moduleRef: TestingModule;
  let clock: FakeClock;
  let listener: RecordingListener;
  let sut: PeerDirectory;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = new FakeClock();
    moduleRef = await Test.createTestingModule({
      providers: [PeerDirectory, { provide: NODE_CONFIG, useValue: config }, { provide: Clock, useValue: clock }],
    }).compile();
    sut = moduleRef.get(PeerDirectory);
    listener = new RecordingListener();
    sut.subscribe(listener);
  });

  afterEach(() => moduleRef.close());

  it('knows the configured peers, none of them failed yet', () => {
    expect(sut.nodeIds).toEqual(['node2', 'node3']);
    expect(sut.has('node2')).toBe(true);
    expect(sut.has('node1')).toBe(false);
    expect(sut.allHealth().map((h) => h.status)).toEqual(['unknown', 'unknown']);
    expect(sut.isFailed('node2')).toBe(false);
  });

  it('tells listeners a peer is reachable on its first answer, and records when it was seen', () => {
    clock.advance(500);
    sut.recordHeartbeat('node2', true, 'boot-a');

    expect(listener.heard).toEqual(['reachable node2']);
    expect(sut.health('node2')).toMatchObject({ status: 'healthy', lastSeen: clock.now() });
    expect(sut.health('node3')?.status).toBe('unknown');
  });

  it('says nothing for answers from a peer that is already healthy', () => {
    sut.recordHeartbeat('node2', true, 'boot-a');
    sut.recordHeartbeat('node2', true, 'boot-a');
    sut.recordHeartbeat('node2', true, 'boot-a');

    expect(listener.heard).toEqual(['reachable node2']);
  });

  it('tells listeners once that a peer failed, on the miss that reaches MAX_HEARTBEAT_FAILURES', () => {
    sut.recordHeartbeat('node2', true, 'boot-a');

    sut.recordHeartbeat('node2', false);
    expect(listener.heard).toEqual(['reachable node2']);
    expect(sut.health('node2')?.status).toBe('degraded');

    sut.recordHeartbeat('node2', false);
    sut.recordHeartbeat('node2', false);
    sut.recordHeartbeat('node2', false);

    expect(listener.heard).toEqual(['reachable node2', 'failed node2']);
    expect(sut.isFailed('node2')).toBe(true);
    expect(sut.isFailed('node3')).toBe(false);
  });

  it('tells listeners a failed peer is reachable again when it answers', () => {
    sut.recordHeartbeat('node2', true, 'boot-a');
    sut.recordHeartbeat('node2', false);
    sut.recordHeartbeat('node2', false);

    sut.recordHeartbeat('node2', true, 'boot-a');

    expect(listener.heard).toEqual(['reachable node2', 'failed node2', 'reachable node2']);
    expect(sut.isFailed('node2')).toBe(false);
  });

  it('tells listeners a peer restarted when its boot id changes, even if it never missed a beat', () => {
    sut.recordHeartbeat('node2', true, 'boot-a');

    sut.recordHeartbeat('node2', true, 'boot-b');

    expect(listener.heard).toEqual(['reachable node2', 'restarted node2']);
  });

  it('a failed peer back with a new boot id is announced restarted, then reachable', () => {
    sut.recordHeartbeat('node2', true, 'boot-a');
    sut.recordHeartbeat('node2', false);
    sut.recordHeartbeat('node2', false);
    listener.heard.length = 0;

    sut.recordHeartbeat('node2', true, 'boot-b');

    expect(listener.heard).toEqual(['restarted node2', 'reachable node2']);
  });

  it('a peer that never answered is announced failed after MAX_HEARTBEAT_FAILURES misses', () => {
    sut.recordHeartbeat('node3', false);
    sut.recordHeartbeat('node3', false);

    expect(listener.heard).toEqual(['failed node3']);
  });

  it('ignores heartbeats of nodes that are not peers', () => {
    sut.recordHeartbeat('node9', true, 'x');
    sut.recordHeartbeat('node9', false);
    sut.recordHeartbeat('node9', false);

    expect(listener.heard).toEqual([]);
  });

  it('a listener that throws does not keep the others from hearing', () => {
    const other = new RecordingListener();
    sut.subscribe({
      onPeerReachable: () => {
        throw new Error('boom');
      },
    });
    sut.subscribe(other);

    sut.recordHeartbeat('node2', true, 'boot-a');

    expect(listener.heard).toEqual(['reachable node2']);
    expect(other.heard).toEqual(['reachable node2']);
  });

  it('replicates as one JSON string, and as XML-RPC structs to a peer that does not know that method', async () => {
    const calls: string[] = [];
    let node3Upgraded = false;
    jest.spyOn(sut, 'call').mockImplementation(async (nodeId, method, params) => {
      calls.push(`${nodeId} ${method} ${typeof (params as unknown[])[1] === 'string' ? 'json' : 'structs'}`);
      if (nodeId === 'node3' && method === 'replicate_events_json' && !node3Upgraded) throw new XmlRpcFault(XmlRpcFaultCode.MethodNotFound, 'Unknown method');
      return true as never;
    });
    const event = (n: number): ReplicationEvent => ({ kind: 'deleted', room_id: `r${n}`, room_name: 'gone', transaction_id: null });

    sut.replicate(event(1));
    await eventually(() => sut.pendingReplication() === 0);
    sut.replicate(event(2));
    await eventually(() => sut.pendingReplication() === 0);

    expect(calls.filter((c) => c.startsWith('node2'))).toEqual(['node2 replicate_events_json json', 'node2 replicate_events_json json']);
    // node3 (an earlier version) said "unknown method" once; the batch went again as structs, and so do later ones
    expect(calls.filter((c) => c.startsWith('node3'))).toEqual(['node3 replicate_events_json json', 'node3 replicate_events structs', 'node3 replicate_events structs']);

    // node3 restarts, upgraded in a rolling update: JSON is tried again, and now it works
    sut.recordHeartbeat('node3', true, 'boot-1');
    node3Upgraded = true;
    sut.recordHeartbeat('node3', true, 'boot-2');
    sut.replicate(event(3));
    await eventually(() => sut.pendingReplication() === 0);
    expect(calls.filter((c) => c.startsWith('node3')).at(-1)).toBe('node3 replicate_events_json json');
  });

  it('forwards a batch as JSON, and as structs to a peer that does not know that method', async () => {
    const calls: string[] = [];
    let inFlight = deferred();
    jest.spyOn(sut, 'call').mockImplementation(async (nodeId, method, params) => {
      calls.push(`${nodeId} ${method}`);
      await inFlight.promise; // the first call stays in flight until the next items have queued up
      if (method === 'forward_message') return { success: true, sequence_number: 1 } as never;
      if (nodeId === 'node3' && method === 'forward_messages_json') throw new XmlRpcFault(XmlRpcFaultCode.MethodNotFound, 'Unknown method');
      const items = (method === 'forward_messages_json' ? JSON.parse((params as string[])[1]) : (params as unknown[])[1]) as ForwardItem[];
      const results = items.map((_, i) => ({ success: true, sequence_number: i + 2 }));
      return (method === 'forward_messages_json' ? JSON.stringify(results) : results) as never;
    });
    const item = (n: number): ForwardItem => ({ room_id: 'r', username: 'u', content: `m${n}`, client_message_id: null });

    for (const node of ['node2', 'node3']) {
      inFlight = deferred();
      const forwarded = Promise.all([1, 2, 3].map((n) => sut.forwardMessage(node, item(n))));
      inFlight.resolve();
      const results = await forwarded;
      expect(results.map((r) => (r.success ? r.sequence_number : r.error))).toEqual([1, 2, 3]);
    }
    expect(calls).toEqual(['node2 forward_message', 'node2 forward_messages_json', 'node3 forward_message', 'node3 forward_messages_json', 'node3 forward_messages']);
  });

  it('refuses a call to a node that is not a peer without touching the network', async () => {
    await expect(sut.call('node9', 'heartbeat', [])).rejects.toThrow('Node node9 is not in PEER_NODES');
  });
});
