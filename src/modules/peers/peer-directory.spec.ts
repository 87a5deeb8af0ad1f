import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Clock } from '../../common/clock/clock';
import { loadConfig } from '../../common/config/load-config';
import { NODE_CONFIG } from '../../common/config/node-config';
import { deferred } from '../../testing/deferred';
import { FakeClock } from '../../testing/fakes';
import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';
import { PeerDirectory, type PeerStatusListener } from './peer-directory';
import type { ForwardItem } from '../../common/protocol/peer-wire';
import { ChatStore } from '../../common/store/chat-store';
import { heartbeatAnswer, peerDirectoryDeps } from '../../testing/peers';
import { NodeDisk } from './node-disk';
import { checkParams } from './rpc-params';
import type { PeerParamKind } from '../../common/protocol/peer-param-kinds';

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
  onPeerSuspected(nodeId: string): void {
    this.heard.push(`suspected ${nodeId}`);
  }
}

// Nothing listens on port 1; these specs never make a call.
const config = loadConfig({ NODE_ID: 'node1', PEER_NODES: 'node2:http://127.0.0.1:1,node3:http://127.0.0.1:1', MAX_HEARTBEAT_FAILURES: '2' });

describe(PeerDirectory.name, () => {
  let moduleRef: TestingModule;
  let clock: FakeClock;
  let listener: RecordingListener;
  let store: ChatStore;
  let sut: PeerDirectory;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = new FakeClock();
    store = ChatStore.inMemory();
    moduleRef = await Test.createTestingModule({
      providers: [PeerDirectory, ...peerDirectoryDeps(store), { provide: NODE_CONFIG, useValue: config }, { provide: Clock, useValue: clock }],
    }).compile();
    sut = moduleRef.get(PeerDirectory);
    listener = new RecordingListener();
    sut.subscribe(listener);
  });

  afterEach(async () => {
    await moduleRef.close();
    store.close();
  });

  it('knows the configured peers, none of them failed yet', () => {
    expect(sut.nodeIds).toEqual(['node2', 'node3']);
    expect(sut.has('node2')).toBe(true);
    expect(sut.has('node1')).toBe(false);
    expect(sut.allHealth().map((h) => h.status)).toEqual(['unknown', 'unknown']);
    expect(sut.isFailed('node2')).toBe(false);
  });

  it('tells listeners a peer is reachable on its first answer, and records when it was seen', () => {
    clock.advance(500);
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a'));

    expect(listener.heard).toEqual(['reachable node2']);
    expect(sut.health('node2')).toMatchObject({ status: 'healthy', lastSeen: clock.now() });
    expect(sut.health('node3')?.status).toBe('unknown');
  });

  it('says nothing for answers from a peer that is already healthy', () => {
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a'));
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a'));
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a'));

    expect(listener.heard).toEqual(['reachable node2']);
  });

  it('tells listeners once that a peer failed, on the miss that reaches MAX_HEARTBEAT_FAILURES', () => {
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a'));

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
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a'));
    sut.recordHeartbeat('node2', false);
    sut.recordHeartbeat('node2', false);

    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a'));

    expect(listener.heard).toEqual(['reachable node2', 'failed node2', 'reachable node2']);
    expect(sut.isFailed('node2')).toBe(false);
  });

  it('tells listeners a peer restarted when its boot id changes, even if it never missed a beat', () => {
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a'));

    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-b'));

    expect(listener.heard).toEqual(['reachable node2', 'restarted node2']);
  });

  it('a failed peer back with a new boot id is announced restarted, then reachable', () => {
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a'));
    sut.recordHeartbeat('node2', false);
    sut.recordHeartbeat('node2', false);
    listener.heard.length = 0;

    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-b'));

    expect(listener.heard).toEqual(['restarted node2', 'reachable node2']);
  });

  it('a peer that never answered is announced failed after MAX_HEARTBEAT_FAILURES misses', () => {
    sut.recordHeartbeat('node3', false);
    sut.recordHeartbeat('node3', false);

    expect(listener.heard).toEqual(['failed node3']);
  });

  it('ignores heartbeats of nodes that are not peers', () => {
    sut.recordHeartbeat('node9', true, heartbeatAnswer('x'));
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

    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a'));

    expect(listener.heard).toEqual(['reachable node2']);
    expect(other.heard).toEqual(['reachable node2']);
  });

  it('remembers the disk a peer reports, and tells listeners nothing new when it comes back with another one but the same boot', () => {
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a', { disk_id: 'disk-1' }));
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a', { disk_id: 'disk-2' }));

    expect(moduleRef.get(NodeDisk).rememberedOf('node2')).toEqual({ disk: 'disk-2', replaced: 'disk-1' });
    expect(store.logs.peerDisks()).toEqual([{ nodeId: 'node2', diskId: 'disk-2', replacedDiskId: 'disk-1' }]);
    expect(listener.heard).toEqual(['reachable node2']);
  });

  it('never counts a peer configured with another list of nodes: its answers are no answers, and listeners hear it as suspected', () => {
    const otherView = NodeDisk.viewOf(['node1', 'node2', 'node4']);
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a', { cluster_view: otherView }));

    expect(listener.heard).toEqual(['suspected node2']);
    expect(sut.otherViews()).toEqual([{ peer: 'node2', view: otherView }]);
    expect(sut.isSuspected('node2')).toBe(true);
    expect(sut.livePeers()).toEqual(['node3']);

    // its answers count as misses: at MAX_HEARTBEAT_FAILURES it is failed (and suspected only once)
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a', { cluster_view: otherView }));
    expect(listener.heard).toEqual(['suspected node2', 'failed node2']);

    // its PEER_NODES fixed: it counts again
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-a', { cluster_view: NodeDisk.viewOf(['node3', 'node2', 'node1']) }));
    expect(sut.otherViews()).toEqual([]);
    expect(sut.isSuspected('node2')).toBe(false);
    expect(listener.heard).toEqual(['suspected node2', 'failed node2', 'reachable node2']);
  });

  it('forwards as structs to a peer that does not know the JSON method, and tries JSON again once it restarted (a rolling update)', async () => {
    const calls: string[] = [];
    let upgraded = false;
    jest.spyOn(sut, 'call').mockImplementation(async (nodeId, method, params) => {
      calls.push(method);
      if (method === 'forward_messages_json' && !upgraded) throw new XmlRpcFault(XmlRpcFaultCode.MethodNotFound, 'Unknown method');
      const items = (method === 'forward_messages_json' ? JSON.parse((params as string[])[1]) : method === 'forward_messages' ? (params as unknown[])[1] : [null]) as unknown[];
      const results = items.map(() => ({ success: true, sequence_number: 1 }));
      if (method === 'forward_message') return results[0] as never;
      return (method === 'forward_messages_json' ? JSON.stringify(results) : results) as never;
    });
    const item = (n: number): ForwardItem => ({ room_id: 'r', username: 'u', content: `m${n}`, client_message_id: null });
    const sendThree = () => Promise.all([sut.forwardMessage('node3', item(1)), sut.forwardMessage('node3', item(2)), sut.forwardMessage('node3', item(3))]);

    await sendThree();
    await sendThree();
    expect(calls.filter((m) => m !== 'forward_message')).toEqual(['forward_messages_json', 'forward_messages', 'forward_messages']);

    sut.recordHeartbeat('node3', true, heartbeatAnswer('boot-1'));
    upgraded = true;
    sut.recordHeartbeat('node3', true, heartbeatAnswer('boot-2'));
    calls.length = 0;
    await sendThree();
    expect(calls.filter((m) => m !== 'forward_message')).toEqual(['forward_messages_json']);
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

  it('names this node\'s disk in heartbeat and room_log_json, and leaves it out for a peer of an earlier version until it restarts', async () => {
    const disk = moduleRef.get(NodeDisk).diskId;
    let upgraded = false;
    // an earlier version checks the params it knew, and nothing more
    const earlier = (method: string, params: readonly unknown[], kinds: PeerParamKind[]) => (upgraded ? params : checkParams(method, [...params], kinds));
    const sent: (readonly unknown[])[] = [];
    jest.spyOn(sut, 'call').mockImplementation(async (nodeId, method, params) => {
      sent.push(earlier(method, params as readonly unknown[], ['string', 'string']));
      return '[]' as never;
    });
    const pulse = (sut as unknown as { peers: Map<string, { pulse: { call: (m: string, p: unknown[]) => Promise<unknown> } }> }).peers.get('node2')!.pulse;
    jest.spyOn(pulse, 'call').mockImplementation(async (method, params) => {
      sent.push(earlier(method, params, []));
      return heartbeatAnswer('boot-1');
    });

    await sut.roomLog('node2', '[]');
    await sut.roomLog('node2', '[]');
    await sut.heartbeat('node2', 1000);
    expect(sent).toEqual([['node1', '[]'], ['node1', '[]'], []]);

    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-1'));
    upgraded = true;
    sut.recordHeartbeat('node2', true, heartbeatAnswer('boot-2'));
    sent.length = 0;
    await sut.roomLog('node2', '[]');
    await sut.heartbeat('node2', 1000);
    expect(sent).toEqual([['node1', '[]', disk], ['node1', disk]]);
  });

  it('drops a room_log_json reply when a heartbeat named another disk of the peer while the call was out (the answer may come from the replaced disk)', async () => {
    const disk = moduleRef.get(NodeDisk);
    disk.heard('node2', 'disk-a', undefined);
    let heartbeatMeanwhile: string | null = null;
    jest.spyOn(sut, 'call').mockImplementation(async () => {
      if (heartbeatMeanwhile) disk.heard('node2', heartbeatMeanwhile, undefined);
      return '[["r1",{"type":"voteResult"}]]' as never;
    });
    expect(await sut.roomLog('node2', '[]')).toBe('[["r1",{"type":"voteResult"}]]');
    heartbeatMeanwhile = 'disk-b';
    expect(await sut.roomLog('node2', '[]')).toBe('[]');
    expect(await sut.roomLog('node2', '[]')).toBe('[["r1",{"type":"voteResult"}]]'); // the new disk's answers count
  });

  it('refuses a call to a node that is not a peer without touching the network', async () => {
    await expect(sut.call('node9', 'heartbeat', [])).rejects.toThrow('Node node9 is not in PEER_NODES');
  });
});
