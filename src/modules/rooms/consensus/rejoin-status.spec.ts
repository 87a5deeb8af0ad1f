import { RejoinStatus } from './rejoin-status';

describe(RejoinStatus.name, () => {
  it('a disk that is not fresh is decided and not rejoining', () => {
    const sut = new RejoinStatus(false, 'n1.d1', ['n2', 'n3']);
    expect([sut.decided, sut.rejoining]).toEqual([true, false]);
  });

  it('a fresh disk is rejoining as soon as one peer remembers it with another disk', () => {
    const sut = new RejoinStatus(true, 'n1.d2', ['n2', 'n3', 'n4', 'n5']);
    sut.heard('n2', 'n1.d1');
    expect([sut.decided, sut.rejoining]).toEqual([true, true]);
  });

  it('with three nodes, one peer that never heard of it is not enough: the other may remember its old disk (simulator seed 492)', () => {
    // n2 lost its own disk since n1's old disk and n3 committed entries together: n2 says "never heard of n1"
    const sut = new RejoinStatus(true, 'n1.d4', ['n2', 'n3']);
    sut.heard('n2', null);
    expect(sut.decided).toBe(false);
    sut.heard('n3', 'n1.d1');
    expect([sut.decided, sut.rejoining]).toEqual([true, true]);
  });

  it('with five nodes, it decides on three peers: every majority of five has one of them besides the old disk', () => {
    const sut = new RejoinStatus(true, 'n1.d1', ['n2', 'n3', 'n4', 'n5']);
    sut.heard('n2', null);
    sut.heard('n3', 'n1.d1'); // its own disk: known, not another
    expect(sut.decided).toBe(false);
    sut.heard('n4', null);
    expect([sut.decided, sut.rejoining]).toEqual([true, false]);
  });

  it('counts each peer once, and nothing from a node that is not a peer', () => {
    const sut = new RejoinStatus(true, 'n1.d1', ['n2', 'n3']);
    sut.heard('n2', null);
    sut.heard('n2', null);
    sut.heard('n9', 'n1.d0');
    expect([sut.decided, sut.rejoining]).toEqual([false, false]);
  });

  it('a peer that remembers this very disk is no reason to rejoin', () => {
    const sut = new RejoinStatus(true, 'n1.d1', ['n2', 'n3']);
    sut.heard('n2', 'n1.d1');
    sut.heard('n3', null);
    expect([sut.decided, sut.rejoining]).toEqual([true, false]);
  });
});
