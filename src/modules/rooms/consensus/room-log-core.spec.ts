import { MemoryStableLog } from '../../../testing/memory-stable-log';
import type { CoreConfig, Ready } from './core-types';
import { MESSAGE, type Entry } from './log-entry';
import type { RoomMessage } from './room-messages';
import { RoomLogCore } from './room-log-core';

const NODES = ['n1', 'n2', 'n3'];

/** Three cores (or `nodes`) on a perfect network with synchronous disks: enough to pin the basic rules. */
class Trio {
  readonly disks = new Map<string, MemoryStableLog>();
  readonly cores = new Map<string, RoomLogCore>();
  readonly applied = new Map<string, Entry[]>();
  readonly cut = new Set<string>();
  /** Messages the network loses (besides those to or from a cut node). */
  lose: (m: RoomMessage) => boolean = () => false;
  private queue: RoomMessage[] = [];

  constructor(
    private readonly maxAppendEntries = 64,
    private readonly nodes = NODES,
  ) {
    for (const n of nodes) {
      this.disks.set(n, new MemoryStableLog());
      this.applied.set(n, []);
      this.boot(n);
    }
  }

  boot(n: string, knownLeader: string | null = null): RoomLogCore {
    const disk = this.disks.get(n)!;
    const cfg: CoreConfig = { self: n, disk: `${n}-disk`, voters: this.nodes, electionTicks: 10, resendTicks: 5, maxAppendEntries: this.maxAppendEntries, maxAppendBytes: 65536, maxInflight: 4, entryBytes: () => 50, random: () => 0 };
    const core = new RoomLogCore(cfg, disk, disk.hardState, disk.applied, knownLeader);
    this.cores.set(n, core);
    return core;
  }

  core(n: string): RoomLogCore {
    return this.cores.get(n)!;
  }

  /** Drains every core's Ready and delivers messages until nothing moves. */
  settle(): void {
    for (let round = 0; round < 1000; round++) {
      let moved = false;
      for (const [n, core] of this.cores) {
        while (core.hasReady()) {
          moved = true;
          const r: Ready = core.ready();
          const disk = this.disks.get(n)!;
          disk.write(r.hardState, r.persist);
          core.persisted(r.mark);
          this.applied.get(n)!.push(...r.committed);
          disk.applied += r.committed.length;
          this.queue.push(...r.messages, ...r.afterPersist);
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        if (this.cut.has(m.from) || this.cut.has(m.to) || this.lose(m)) continue;
        moved = true;
        this.cores.get(m.to)?.step(m);
      }
      if (!moved) return;
    }
    throw new Error('did not settle');
  }

  tickAll(times: number): void {
    for (let i = 0; i < times; i++) {
      for (const [n, core] of this.cores) if (!this.cut.has(n)) core.tick();
      this.settle();
    }
  }
}

describe(RoomLogCore.name, () => {
  it('founds a room at epoch 1, replicates it and commits its messages on every node', () => {
    const t = new Trio();
    expect(t.core('n1').found({ kind: 'room', data: { name: 'general' } })).toMatchObject({ ok: true, index: 1, epoch: 1, sequence: 0 });
    t.settle();
    const sent = t.core('n1').propose({ kind: MESSAGE, data: 'hello', clientKey: 'alice\u0000c1' });
    expect(sent).toMatchObject({ ok: true, index: 2, sequence: 1, duplicate: false });
    t.settle();
    for (const n of NODES) expect(t.applied.get(n)!.map((e) => [e.index, e.kind, e.sequence])).toEqual([[1, 'room', 0], [2, MESSAGE, 1]]);
    expect(t.core('n1').propose({ kind: MESSAGE, data: 'hello again', clientKey: 'alice\u0000c1' })).toMatchObject({ ok: true, index: 2, sequence: 1, duplicate: true });
  });

  it('elects the lowest live node when the host is reported down, and the new host commits the old tail with its own entry', () => {
    const t = new Trio();
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle();
    t.cut.add('n1');
    t.core('n1').propose({ kind: MESSAGE, data: 'lost' }); // never leaves n1
    for (const n of ['n2', 'n3']) t.core(n).peerDown('n1');
    t.tickAll(3);
    expect(t.core('n2').state).toMatchObject({ role: 'leader', epoch: 2 });
    expect(t.core('n2').propose({ kind: MESSAGE, data: 'm' })).toMatchObject({ ok: true, sequence: 1 });
    t.settle();
    expect(t.applied.get('n3')!.map((e) => e.kind)).toEqual(['room', 'noop', MESSAGE]);
    // the old host comes back: refused as stale, it steps down and drops what no majority stored
    t.cut.delete('n1');
    for (const n of ['n2', 'n3']) t.core(n).peerUp('n1');
    t.core('n1').tick();
    for (let i = 0; i < 10; i++) t.tickAll(1);
    expect(t.core('n1').state).toMatchObject({ role: 'follower', leader: 'n2', epoch: 2 });
    expect(t.applied.get('n1')!.map((e) => e.data)).toEqual([{}, null, 'm']);
  });

  it('a voter whose candidate never wins campaigns itself once the election is over (simulator seed 104)', () => {
    const t = new Trio();
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle();
    t.cut.add('n1'); // the host is gone for good
    for (const n of ['n2', 'n3']) t.core(n).peerDown('n1');
    // n2 asks n3 for its vote, then is wiped before the answer arrives: n2 never campaigns again
    t.core('n3').step({ type: 'vote', from: 'n2', to: 'n3', epoch: 2, last: t.core('n3').state.last });
    t.settle();
    expect(t.core('n3').state).toMatchObject({ role: 'follower', epoch: 2, leader: null });
    for (let i = 0; i < 60 && t.core('n3').state.role !== 'leader'; i++) {
      t.core('n3').tick(); // only n3's clock runs: nobody else would campaign
      t.settle();
    }
    expect(t.core('n3').state).toMatchObject({ role: 'leader', epoch: 3 });
  });

  it('a host that forgot what its followers hold (they restarted) asks them, and commits what it has (simulator seed 22)', () => {
    const t = new Trio();
    t.cut.add('n2');
    t.cut.add('n3');
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle(); // the founding entry is lost on the way
    t.cut.clear();
    for (const n of ['n2', 'n3']) t.core('n1').peerRestarted(n); // nothing new to send them, and nothing known of them
    t.tickAll(20);
    expect(t.core('n1').state.commit).toBe(1);
    expect(t.applied.get('n2')!.map((e) => e.kind)).toEqual(['room']);
    expect(t.core('n1').quiet).toBe(true);
  });

  it('a follower that missed the append carrying the commit learns it when the host sends it again (simulator seed 6162)', () => {
    const t = new Trio(64, ['n1', 'n2', 'n3', 'n4', 'n5']); // five voters: the commit needs a message of its own
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle();
    t.lose = (m) => m.type === 'append' && m.to === 'n3' && m.entries.length === 0; // the commit notice to n3 is lost
    t.core('n1').propose({ kind: MESSAGE, data: 'last message of a burst' });
    t.settle();
    expect(t.applied.get('n3')!.map((e) => e.data)).toEqual([{}]); // stored, not yet known committed
    t.lose = () => false;
    t.tickAll(20);
    expect(t.applied.get('n3')!.map((e) => e.data)).toEqual([{}, 'last message of a burst']);
  });

  it('with three voters, a follower knows an entry of this epoch committed once it stored it: the host sends it after its own write, and no commit notice follows', () => {
    const t = new Trio();
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle();
    const host = t.core('n1');
    host.propose({ kind: MESSAGE, data: 'x' });
    const r = host.ready();
    expect(r.messages).toEqual([]);
    expect(r.afterPersist.map((m) => m.type === 'append' && [m.to, m.hostStored])).toEqual([['n2', 2], ['n3', 2]]);
    t.disks.get('n1')!.write(r.hardState, r.persist);
    host.persisted(r.mark);
    t.lose = (m) => m.type === 'appendResult' && m.from === 'n3'; // the host never hears n3: n2's answer commits the entry
    for (const m of r.afterPersist) t.core(m.to).step(m);
    t.settle();
    expect(t.applied.get('n3')!.map((e) => e.data)).toEqual([{}, 'x']); // n3 and the host hold it: a majority
    expect(host.state.commit).toBe(2);
    const appendsAfterCommit: RoomMessage[] = [];
    t.lose = (m) => (m.type === 'append' && appendsAfterCommit.push(m), false);
    t.tickAll(3);
    expect(appendsAfterCommit.filter((m) => m.type === 'append' && m.to === 'n2')).toEqual([]); // n2 knows: nothing to tell it
  });

  it('a follower counts only what the host said it stored, of the host\'s own epoch, and not while it is a learner', () => {
    const cfg: CoreConfig = { self: 'n2', disk: 'd2', voters: NODES, electionTicks: 10, resendTicks: 5, maxAppendEntries: 64, maxAppendBytes: 65536, maxInflight: 4, entryBytes: () => 50, random: () => 0 };
    const entry = (index: number, epoch: number): Entry => ({ index, epoch, kind: MESSAGE, sequence: index, clientKey: null, data: index });
    const store = (core: RoomLogCore) => {
      const r = core.ready();
      disk.write(r.hardState, r.persist);
      core.persisted(r.mark);
      return r;
    };
    let disk = new MemoryStableLog();
    let core = new RoomLogCore(cfg, disk, disk.hardState, 0);
    core.step({ type: 'append', from: 'n1', to: 'n2', epoch: 2, prev: { index: 0, epoch: 0 }, entries: [entry(1, 1), entry(2, 2)], commit: 0, hostStored: 1 });
    expect(store(core).committed).toEqual([]); // entry 1 is of an earlier epoch: two copies of it do not commit it (Raft §5.4.2)
    core.step({ type: 'append', from: 'n1', to: 'n2', epoch: 2, prev: { index: 2, epoch: 2 }, entries: [], commit: 0, hostStored: 2 });
    expect(store(core).committed.map((e) => e.index)).toEqual([1, 2]); // entry 2 is of the host's epoch: both commit

    disk = new MemoryStableLog();
    core = new RoomLogCore(cfg, disk, { ...disk.hardState, learner: true }, 0);
    core.step({ type: 'append', from: 'n1', to: 'n2', epoch: 1, prev: { index: 0, epoch: 0 }, entries: [entry(1, 1)], commit: 0, hostStored: 1 });
    expect(store(core).committed).toEqual([]); // a learner's copy does not count
  });

  it('a duplicated, stale acknowledgement does not make the host send again (simulator seed 19177: a message storm)', () => {
    const t = new Trio();
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle();
    const host = t.core('n1');
    host.propose({ kind: MESSAGE, data: 'x' });
    expect(host.ready().afterPersist.filter((m) => m.type === 'append')).toHaveLength(2); // on their way to n2 and n3 (after the host's write)
    const stale: RoomMessage = { type: 'appendResult', from: 'n2', to: 'n1', epoch: 1, ok: true, match: 1, learner: false, disk: 'n2-disk' };
    for (let i = 0; i < 5; i++) host.step(stale); // the network duplicated n2's answer to the founding entry
    const after = host.ready();
    expect([...after.messages, ...after.afterPersist]).toEqual([]);
  });

  it('a host counts as told only the commit an append lets the follower take (simulator seed 115002)', () => {
    const t = new Trio(1); // one entry per append
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle();
    t.lose = (m) => m.type === 'append' && m.to === 'n3' && m.entries.length === 0; // n3 stores 'x', misses the commit
    t.core('n1').propose({ kind: MESSAGE, data: 'x' });
    t.settle();
    const host = t.core('n1');
    t.lose = (m) => m.to === 'n3';
    host.peerRestarted('n3'); // its probe is lost, then resent from the start: [1], which says nothing of entry 2
    t.settle();
    for (let i = 0; i < 5; i++) host.tick();
    // the late answer to the lost probe: n3 holds 1..2; the resent [1] could only tell it commit 1
    host.step({ type: 'appendResult', from: 'n3', to: 'n1', epoch: 1, ok: true, match: 2, learner: false, disk: 'n3-disk' });
    t.lose = () => false;
    t.tickAll(20);
    expect(t.applied.get('n3')!.map((e) => e.data)).toEqual([{}, 'x']);
  });
});

describe(`${RoomLogCore.name}: campaigning after the host is lost`, () => {
  it('keeps asking when a voter still hears the lost host (its detector is slower), instead of following a host it knows is down', () => {
    const disk = new MemoryStableLog();
    disk.write({ epoch: 1, vote: null, commit: 1, learner: false }, { from: 1, entries: [{ index: 1, epoch: 1, kind: 'room', sequence: 0, clientKey: null, data: {} }] });
    const cfg: CoreConfig = { self: 'n2', disk: 'd2', voters: NODES, electionTicks: 10, resendTicks: 5, maxAppendEntries: 64, maxAppendBytes: 65536, maxInflight: 4, entryBytes: () => 50, random: () => 0 };
    const sut = new RoomLogCore(cfg, disk, disk.hardState, 1, 'n1');
    sut.peerDown('n1');
    let preVotes = 0;
    for (let t = 0; t < 10; t++) {
      sut.tick();
      const r = sut.ready();
      for (const m of [...r.messages, ...r.afterPersist]) {
        if (m.type !== 'preVote' || m.to !== 'n3') continue;
        preVotes++;
        sut.step({ type: 'preVoteResult', from: 'n3', to: 'n2', epoch: 1, granted: false, leader: 'n1' }); // n3 has not noticed yet
      }
      sut.persisted(r.mark);
    }
    expect(preVotes).toBeGreaterThanOrEqual(3);
    expect(sut.state.leader).toBeNull();
  });
});

describe(`${RoomLogCore.name}: whom a refused candidate follows, and when a voter runs`, () => {
  const cfgOf = (self: string, voters = NODES): CoreConfig => ({ self, disk: `${self}-disk`, voters, electionTicks: 10, resendTicks: 5, maxAppendEntries: 64, maxAppendBytes: 65536, maxInflight: 4, entryBytes: () => 50, random: () => 0 });
  const campaignOf = (core: RoomLogCore, ticks: number): number | null => {
    for (let t = 1; t <= ticks; t++) {
      core.tick();
      const r = core.ready();
      core.persisted(r.mark);
      if (r.messages.some((m) => m.type === 'preVote')) return t;
    }
    return null;
  };

  it("asks for pre-votes as soon as its host is reported down when its turn is first, without waiting for a tick", () => {
    const disk = new MemoryStableLog();
    disk.write({ epoch: 1, vote: null, commit: 1, learner: false }, { from: 1, entries: [{ index: 1, epoch: 1, kind: 'room', sequence: 0, clientKey: null, data: {} }] });
    const first = new RoomLogCore(cfgOf('n2'), disk, disk.hardState, 1, 'n1');
    first.peerDown('n1');
    expect(first.ready().messages.filter((m) => m.type === 'preVote').map((m) => m.to)).toEqual(['n1', 'n3']);
    const second = new RoomLogCore(cfgOf('n3'), disk, disk.hardState, 1, 'n1');
    second.peerDown('n1');
    expect(second.ready().messages).toEqual([]); // its turn comes one election timeout later
  });

  it('follows the host that refuses it, but not a host another voter names (that node may have restarted and host nothing)', () => {
    const disk = new MemoryStableLog();
    const sut = new RoomLogCore(cfgOf('n2'), disk, disk.hardState, 0, null);
    sut.step({ type: 'preVoteResult', from: 'n3', to: 'n2', epoch: 0, granted: false, leader: 'n1' });
    expect(sut.state.leader).toBeNull();
    sut.step({ type: 'preVoteResult', from: 'n1', to: 'n2', epoch: 0, granted: false, leader: 'n1' });
    expect(sut.state.leader).toBe('n1');
  });

  it('a voter that refuses a candidate behind it runs in its own turn with that candidate left out, not at once (voters running together split the vote)', () => {
    const voters = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const names = ['n3', 'n4'];
    const cores = names.map((n) => {
      const disk = new MemoryStableLog();
      disk.write({ epoch: 2, vote: null, commit: 1, learner: false }, { from: 1, entries: [{ index: 1, epoch: 2, kind: 'room', sequence: 0, clientKey: null, data: {} }] });
      return new RoomLogCore(cfgOf(n, voters), disk, disk.hardState, 1, null);
    });
    cores.forEach((core, i) => core.step({ type: 'preVote', from: 'n1', to: names[i], epoch: 3, last: { epoch: 1, index: 5 } }));
    // n1 left out, n3 is second of the live voters (n2, n3, n4, n5) and n4 third: one election timeout apart
    expect(cores.map((c) => campaignOf(c, 40))).toEqual([10, 20]);
  });
});

describe(`${RoomLogCore.name} (one host per epoch)`, () => {
  it('a host refuses an append another node sends at its own epoch, and keeps hosting (a forged or buggy peer)', () => {
    const t = new Trio();
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle();
    const host = t.core('n1');
    host.step({ type: 'append', from: 'n3', to: 'n1', epoch: 1, prev: { epoch: 1, index: 1 }, entries: [{ index: 2, epoch: 1, kind: MESSAGE, sequence: 1, clientKey: null, data: 'forged' }], commit: 2 });
    expect(host.state).toMatchObject({ role: 'leader', leader: 'n1', epoch: 1, commit: 1, last: { epoch: 1, index: 1 } });
    const r = host.ready();
    expect(r.persist).toBeNull();
    expect([...r.messages, ...r.afterPersist]).toEqual([expect.objectContaining({ type: 'appendResult', to: 'n3', ok: false })]);
  });

  it('a follower refuses an append from another node at the epoch whose host it knows', () => {
    const t = new Trio();
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle();
    const follower = t.core('n2');
    follower.step({ type: 'append', from: 'n3', to: 'n2', epoch: 1, prev: { epoch: 1, index: 1 }, entries: [{ index: 2, epoch: 1, kind: MESSAGE, sequence: 1, clientKey: null, data: 'forged' }], commit: 2 });
    expect(follower.state).toMatchObject({ role: 'follower', leader: 'n1', commit: 1, last: { epoch: 1, index: 1 } });
    expect(follower.ready().messages).toEqual([expect.objectContaining({ type: 'appendResult', to: 'n3', ok: false })]);
  });
});

describe(`${RoomLogCore.name}.caughtUp (a new host serves requests only once it applied what was committed before it)`, () => {
  const FIVE = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const kinds = (t: Trio, n: string) => t.applied.get(n)!.map((e) => (e.kind === MESSAGE ? e.data : e.kind));
  /** n1 is cut off and n2, the lowest live node, is elected; answers to its appends are lost, so its noop cannot commit. */
  const elect = (t: Trio, nodes: readonly string[]) => {
    t.cut.add('n1');
    t.lose = (m) => m.type === 'appendResult' && m.to === 'n2';
    for (const n of nodes.slice(1)) t.core(n).peerDown('n1');
    t.tickAll(3);
    expect(t.core('n2').state).toMatchObject({ role: 'leader', epoch: 2 });
  };

  it('with five voters, a new host holding a committed entry it has not applied is not caught up until its own first entry commits and is applied', () => {
    const t = new Trio(64, FIVE);
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle();
    expect(t.core('n1').caughtUp).toBe(true); // the founder: nothing before its epoch
    expect(t.core('n2').caughtUp).toBe(false); // a follower never is
    t.lose = (m) => m.type === 'append' && m.to === 'n2' && m.entries.length === 0; // n2 stores the ban, never hears it committed
    t.core('n1').propose({ kind: MESSAGE, data: 'ban bob' });
    t.settle();
    expect(t.core('n1').state.commit).toBe(2); // n1, n3, n4 and n5 hold it: committed
    expect(kinds(t, 'n2')).toEqual(['room']);

    elect(t, FIVE);
    const host = t.core('n2');
    expect(host.state.last).toEqual({ index: 3, epoch: 2 }); // the ban at 2, its noop at 3
    expect(kinds(t, 'n2')).toEqual(['room']); // the ban is committed, and not applied here
    expect(host.caughtUp).toBe(false);
    expect(host.propose({ kind: MESSAGE, data: 'join bob' })).toMatchObject({ ok: true }); // the core still takes proposals: the adapter waits (RoomLogs.serve)

    t.lose = () => false;
    t.tickAll(5); // the answers now arrive: the noop commits, with the ban before it
    expect(kinds(t, 'n2')).toEqual(['room', 'ban bob', 'noop', 'join bob']);
    expect(host.caughtUp).toBe(true);
  });

  it('a new host that had applied its whole log as a follower is caught up at once, before its noop commits', () => {
    const t = new Trio(64, FIVE);
    t.core('n1').found({ kind: 'room', data: {} });
    t.core('n1').propose({ kind: MESSAGE, data: 'm' });
    t.settle(); // every follower heard the commit
    expect(kinds(t, 'n2')).toEqual(['room', 'm']);
    elect(t, FIVE);
    expect(t.core('n2').state.commit).toBe(2); // its noop (3) is not committed
    expect(t.core('n2').caughtUp).toBe(true);
  });

  it('a host that loses its place is not caught up any more', () => {
    const t = new Trio();
    t.core('n1').found({ kind: 'room', data: {} });
    t.settle();
    expect(t.core('n1').caughtUp).toBe(true);
    for (const n of ['n2', 'n3']) t.core('n1').peerDown(n);
    t.core('n1').tick(); // check-quorum: it hears no majority
    expect(t.core('n1').state.role).toBe('follower');
    expect(t.core('n1').caughtUp).toBe(false);
  });
});
