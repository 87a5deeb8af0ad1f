import { loadConfig } from '../../../common/config/load-config';
import { ChatStore } from '../../../common/store/chat-store';
import { roomRecord } from '../../../testing/records';
import { HostEpochs } from './host-epochs';

describe(HostEpochs.name, () => {
  let store: ChatStore;
  let sut: HostEpochs;

  beforeEach(() => {
    store = ChatStore.inMemory();
    store.insertRoom(roomRecord({ roomId: 'mine', roomName: 'mine', hostNode: 'node1', hostEpoch: 2, promisedEpoch: 2 }));
    store.insertRoom(roomRecord({ roomId: 'theirs', roomName: 'theirs', hostNode: 'node2', hostEpoch: 2, promisedEpoch: 2 }));
    sut = new HostEpochs(loadConfig({ NODE_ID: 'node1' }), store);
  });

  afterEach(() => store.close());

  it('accepts callers that know this epoch, an older one, or name none', () => {
    for (const epoch of [2, 1, null]) expect(() => sut.checkCallerEpoch('mine', epoch)).not.toThrow();
  });

  it('refuses retryably a caller that knows a newer epoch: this host was replaced without hearing of it', () => {
    expect(() => sut.checkCallerEpoch('mine', 3)).toThrow(expect.objectContaining({ code: 'ADMIN_NODE_UNAVAILABLE', details: expect.objectContaining({ retryable: true }) }));
  });

  it('refuses while a newer epoch is promised to another node, whatever the caller knows', () => {
    store.setEpochs('mine', { hostNode: 'node1', hostEpoch: 2, promisedEpoch: 3, epochStart: 1, logEpoch: 2 });
    expect(() => sut.checkCallerEpoch('mine', 2)).toThrow(expect.objectContaining({ code: 'ADMIN_NODE_UNAVAILABLE' }));
    expect(() => sut.checkCallerEpoch('mine', null)).not.toThrow(); // a node before failover: the host's own checks decide
  });

  it('leaves rooms it does not host (or does not know) to the host checks', () => {
    expect(() => sut.checkCallerEpoch('theirs', 9)).not.toThrow();
    expect(() => sut.checkCallerEpoch('nope', 9)).not.toThrow();
  });
});
