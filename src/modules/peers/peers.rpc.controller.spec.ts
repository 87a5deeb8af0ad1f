import { Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { loadConfig } from '../../common/config/load-config';
import { ChatStore } from '../../common/store/chat-store';
import { XmlRpcContext, XmlRpcFaultCode } from '../../common/xmlrpc';
import { FakeClock } from '../../testing/fakes';
import { NodeDisk } from './node-disk';
import type { PeerDirectory } from './peer-directory';
import { PeersRpcController } from './peers.rpc.controller';

const PEERS = 'node2:http://127.0.0.1:1,node3:http://127.0.0.1:1';
const signedBy = (peer: string | null) => new XmlRpcContext(['heartbeat', {} as IncomingMessage, peer]);

describe(PeersRpcController.name, () => {
  let store: ChatStore;
  let heard: string[];

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    store = ChatStore.inMemory();
    heard = [];
  });
  afterEach(() => store.close());

  const controller = (env: Record<string, string>) => {
    const config = loadConfig({ NODE_ID: 'node1', PEER_NODES: PEERS, ...env });
    const clock = new FakeClock();
    const disk = new NodeDisk(config, store, store.logs, clock);
    const peers = { nodeIds: ['node2', 'node3'], heardFrom: (p: string) => heard.push(p) } as unknown as PeerDirectory;
    return { disk, sut: new PeersRpcController(config, 'boot-1', clock, disk, peers) };
  };

  it('answers an operator\'s probe without params, naming this node, its boot and its disk', () => {
    const { sut, disk } = controller({});
    expect(sut.heartbeat([], signedBy(null))).toMatchObject({ status: 'ok', node_id: 'node1', boot_id: 'boot-1', disk_id: disk.diskId, disks: {} });
    expect(heard).toEqual([]);
  });

  it('remembers a calling node\'s disk before it answers, so the answer names it (a fresh disk decides on such answers)', () => {
    const { sut, disk } = controller({});
    expect(sut.heartbeat(['node2', 'disk-b1'], signedBy(null)).disks).toEqual({ node2: { disk: 'disk-b1', replaced: null } });
    expect(sut.heartbeat(['node2', 'disk-b2'], signedBy(null)).disks).toEqual({ node2: { disk: 'disk-b2', replaced: 'disk-b1' } });
    expect(disk.refusal('node2', 'disk-b1')).toMatch(/replaced/); // the old disk's late calls are refused from now on
  });

  it('with a cluster secret, takes a disk only from the node that signed the call', () => {
    const { sut, disk } = controller({ PEER_SECRET: 'a-long-enough-cluster-secret-for-tests' });
    expect(sut.heartbeat(['node2', 'disk-x'], signedBy(null)).disks).toEqual({}); // unsigned: anyone could claim to be node2
    expect(sut.heartbeat(['node2', 'disk-x'], signedBy('node3')).disks).toEqual({});
    expect(sut.heartbeat(['node2', 'disk-b1'], signedBy('node2')).disks).toEqual({ node2: { disk: 'disk-b1', replaced: null } });
    expect(heard).toEqual(['node3', 'node2']);
    expect(disk.rememberedOf('node2')).toEqual({ disk: 'disk-b1', replaced: null });
  });

  it('takes nothing of a node that is not a peer, and refuses mistyped params with -32602', () => {
    const { sut } = controller({});
    expect(sut.heartbeat(['node9', 'disk-z'], signedBy(null)).disks).toEqual({});
    expect(() => sut.heartbeat(['node2', 5], signedBy(null))).toThrow(expect.objectContaining({ code: XmlRpcFaultCode.InvalidParams }));
    expect(() => sut.heartbeat(['node2', 'd', 'x'], signedBy(null))).toThrow(expect.objectContaining({ code: XmlRpcFaultCode.InvalidParams }));
  });
});
