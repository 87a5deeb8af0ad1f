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

  it('with three nodes, one peer that knows only this disk is not enough: the other may remember its old disk (simulator seed 492)', () => {
    // n2 lost its own disk since n1's old disk and n3 committed entries together: n2 knows n1 only by its new disk
    const sut = new RejoinStatus(true, 'n1.d4', ['n2', 'n3']);
    sut.heard('n2', 'n1.d4');
    expect(sut.decided).toBe(false);
    sut.heard('n3', 'n1.d1');
    expect([sut.decided, sut.rejoining]).toEqual([true, true]);
  });

  it('with five nodes, three peers that know this disk are not enough: a late vote of the old disk may still reach the fourth', () => {
    // n2 counts n1.d0's vote for it at epoch e after n1.d1 voted for n3 at e with n4 and n5: two hosts at one epoch
    const sut = new RejoinStatus(true, 'n1.d1', ['n2', 'n3', 'n4', 'n5']);
    sut.heard('n3', 'n1.d1');
    sut.heard('n4', 'n1.d1');
    sut.heard('n5', 'n1.d1');
    expect(sut.decided).toBe(false);
    sut.heard('n2', 'n1.d1');
    expect([sut.decided, sut.rejoining]).toEqual([true, false]);
  });

  it('counts each peer once, and nothing from a node that is not a peer', () => {
    const sut = new RejoinStatus(true, 'n1.d1', ['n2', 'n3']);
    sut.heard('n2', 'n1.d1');
    sut.heard('n2', 'n1.d1');
    sut.heard('n9', 'n1.d0');
    expect([sut.decided, sut.rejoining]).toEqual([false, false]);
  });

  it('a peer that remembers this very disk is no reason to rejoin', () => {
    const sut = new RejoinStatus(true, 'n1.d1', ['n2', 'n3']);
    sut.heard('n2', 'n1.d1');
    sut.heard('n3', 'n1.d1');
    expect([sut.decided, sut.rejoining]).toEqual([true, false]);
  });

  it('"never heard of it" is no answer: the peer does not know this disk yet, and a late message from the old one may still reach it (simulator seed 43932)', () => {
    // n2 and n3 answered before they heard of n1.d2; n2 then took an append n1.d1 sent before the wipe
    const sut = new RejoinStatus(true, 'n1.d2', ['n2', 'n3']);
    sut.heard('n2', null);
    sut.heard('n3', null);
    expect(sut.decided).toBe(false);
    sut.heard('n2', 'n1.d1'); // it names the old disk once it has heard of the new one
    expect([sut.decided, sut.rejoining]).toEqual([true, true]);
  });

  it('decides clean once every peer names this disk, whatever "never heard of it" came before', () => {
    const sut = new RejoinStatus(true, 'n1.d1', ['n2', 'n3']);
    sut.heard('n2', null);
    sut.heard('n2', 'n1.d1');
    sut.heard('n3', 'n1.d1');
    expect([sut.decided, sut.rejoining]).toEqual([true, false]);
  });
});
