import { RejoinStatus } from './rejoin-status';

const PEERS = ['node2', 'node3', 'node4', 'node5'];

describe(RejoinStatus.name, () => {
  it('a disk that existed before this run has nothing to ask: decided, not rejoining', () => {
    const sut = new RejoinStatus(false, 'disk-a', PEERS);
    sut.heard('node2', 'disk-old');
    expect(sut).toMatchObject({ decided: true, rejoining: false });
  });

  it('a fresh disk is undecided until enough peers answered to make a majority with it', () => {
    const sut = new RejoinStatus(true, 'disk-a', PEERS); // five nodes: itself and two more
    sut.heard('node2', null);
    expect(sut.decided).toBe(false);
    sut.heard('node2', null); // the same peer again counts once
    expect(sut.decided).toBe(false);
    sut.heard('node9', null); // not a peer
    expect(sut.decided).toBe(false);
    sut.heard('node3', null);
    expect(sut).toMatchObject({ decided: true, rejoining: false }); // new to the cluster: a voter from the start
  });

  it('a fresh disk a peer remembers under another identity rejoins (it forgot its votes and what it stored)', () => {
    const sut = new RejoinStatus(true, 'disk-new', PEERS);
    sut.heard('node2', 'disk-old');
    expect(sut).toMatchObject({ decided: true, rejoining: true }); // one peer that knew it is enough
  });

  it('a peer that already remembers this very disk is no reason to rejoin', () => {
    const sut = new RejoinStatus(true, 'disk-a', ['node2', 'node3']);
    sut.heard('node2', 'disk-a');
    expect(sut).toMatchObject({ decided: true, rejoining: false });
  });
});
