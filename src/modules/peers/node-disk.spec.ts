import { Logger } from '@nestjs/common';
import { loadConfig } from '../../common/config/load-config';
import { ChatStore } from '../../common/store/chat-store';
import { FakeClock } from '../../testing/fakes';
import { NodeDisk } from './node-disk';

const config = loadConfig({ NODE_ID: 'node1', PEER_NODES: 'node2:http://127.0.0.1:1,node3:http://127.0.0.1:1' });

describe(NodeDisk.name, () => {
  let store: ChatStore;
  let sut: NodeDisk;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    store = ChatStore.inMemory();
    sut = new NodeDisk(config, store, store.logs, new FakeClock());
  });
  afterEach(() => store.close());

  it('has one identity per database, kept across restarts; a database made in this run is fresh', () => {
    expect(sut.identity).toEqual({ diskId: expect.any(String), fresh: true, rejoining: false });
    const again = new NodeDisk(config, store, store.logs, new FakeClock());
    expect(again.diskId).toBe(sut.diskId);
    const other = ChatStore.inMemory();
    expect(new NodeDisk(config, other, other.logs, new FakeClock()).diskId).not.toBe(sut.diskId);
    other.close();
  });

  it('hashes the node list the same on every node of a cluster, whatever the order, and differently for another list', () => {
    expect(sut.clusterView).toBe(NodeDisk.viewOf(['node3', 'node1', 'node2']));
    expect(NodeDisk.viewOf(['node2', 'node1', 'node3', 'node2'])).toBe(sut.clusterView);
    expect(NodeDisk.viewOf(['node1', 'node2'])).not.toBe(sut.clusterView);
    expect(NodeDisk.viewOf(['node1', 'node2', 'node4'])).not.toBe(sut.clusterView);
  });

  it('remembers a peer\'s first disk quietly, and says so when it comes back with another one', () => {
    expect(sut.heard('node2', 'disk-a', null)).toBe(false);
    expect(sut.heard('node2', 'disk-a', null)).toBe(false);
    expect(sut.heard('node2', 'disk-b', null)).toBe(true);
    expect(sut.rememberedOf('node2')).toEqual({ disk: 'disk-b', replaced: 'disk-a' });
    expect(sut.heard('node3', undefined, null)).toBe(false); // a reference node names no disk
    expect(sut.rememberedOf('node3')).toBeUndefined();
  });

  it('keeps what it learned of peers\' disks on its own disk, and tells peers in heartbeats', () => {
    sut.heard('node2', 'disk-a', null);
    sut.heard('node2', 'disk-b', null);
    sut.heard('node3', 'disk-c', null);
    const afterRestart = new NodeDisk(config, store, store.logs, new FakeClock());
    expect(afterRestart.memory()).toEqual({ node2: { disk: 'disk-b', replaced: 'disk-a' }, node3: { disk: 'disk-c', replaced: null } });
  });

  it('records what each peer remembers of this node, once it said (null: it never heard of it)', () => {
    expect(sut.memoryOf('node2')).toBeUndefined();
    sut.heard('node2', 'disk-a', undefined); // an answer without the peer's memory says nothing of it
    expect(sut.memoryOf('node2')).toBeUndefined();
    sut.heard('node2', 'disk-a', null);
    expect(sut.memoryOf('node2')).toBeNull();
    sut.heard('node3', 'disk-c', { disk: 'my-old-disk', replaced: null });
    expect(sut.memoryOf('node3')).toEqual({ disk: 'my-old-disk', replaced: null });
  });

  it('takes a room log call only from the disk last heard for its sender; a disk it replaced, or one not heard yet, is refused', () => {
    expect(sut.refusal('node2', undefined)).toBeNull(); // a node of an earlier version names none
    expect(sut.refusal('node2', 'disk-a')).toBeNull(); // never heard of node2: its first call names its disk
    expect(sut.rememberedOf('node2')).toEqual({ disk: 'disk-a', replaced: null });
    sut.heard('node2', 'disk-b', undefined); // wiped: its heartbeat names a new disk
    expect(sut.refusal('node2', 'disk-a')).toMatch(/node2 sent this from a data directory it has since replaced/);
    expect(sut.refusal('node2', 'disk-b')).toBeNull();
    expect(sut.refusal('node2', 'disk-c')).toMatch(/not heard in a heartbeat yet/); // wiped again: taken once a heartbeat names it
    expect(sut.rememberedOf('node2')).toEqual({ disk: 'disk-b', replaced: 'disk-a' });
  });
});
