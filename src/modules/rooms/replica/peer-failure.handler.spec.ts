import { Logger } from '@nestjs/common';
import type { RoomRecord } from '../../../common/store/chat-records';
import type { ClientRegistry } from '../../members/client-registry';
import type { PeerDirectory } from '../../peers/peer-directory';
import { PeerFailureHandler } from './peer-failure.handler';
import type { PeerCatchUp } from './peer-catch-up.service';
import type { ReplicaService } from './replica.service';
import type { RoomHostService } from '../host/room-host.service';
import type { RoomLogs } from '../replication/room-logs.service';

const room = { roomId: 'r1', hostNode: 'node2' } as RoomRecord;

describe(PeerFailureHandler.name, () => {
  let roomsWithLocalMembers: jest.Mock<RoomRecord[], [string]>;
  let broadcast: jest.Mock;
  let warn: jest.SpyInstance;
  let host: { removeMembersOf: jest.Mock };
  let sut: PeerFailureHandler;

  beforeEach(() => {
    roomsWithLocalMembers = jest.fn((_nodeId: string) => [room]);
    broadcast = jest.fn();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const replica = { roomsWithLocalMembers } as unknown as ReplicaService;
    const catchUp = { syncFrom: jest.fn(async () => undefined) } as unknown as PeerCatchUp;
    host = { removeMembersOf: jest.fn(() => 0) };
    const peers = { health: (nodeId: string) => (nodeId === 'node2' ? { bootId: 'boot-new' } : undefined) } as unknown as PeerDirectory;
    sut = new PeerFailureHandler(peers, host as unknown as RoomHostService, replica, { broadcast } as unknown as ClientRegistry, catchUp, {} as RoomLogs);
  });

  afterEach(() => warn.mockRestore());

  it('tells local members a room is available again once its host has been caught up with', async () => {
    sut.onPeerFailed('node2');
    expect(broadcast).toHaveBeenCalledWith('r1', 'room_unavailable', expect.objectContaining({ admin_node: 'node2' }));
    await sut.onPeerReachable('node2');
    expect(broadcast).toHaveBeenLastCalledWith('r1', 'room_available', { room_id: 'r1', admin_node: 'node2' });
  });

  it('tells local members a room announced unavailable is available again when another node takes it over, once', () => {
    sut.onPeerFailed('node2');
    sut.onLeadership('r1', { leader: null }); // an election: not yet
    sut.onLeadership('r1', { leader: 'node3' });
    sut.onLeadership('r1', { leader: 'node3' });
    expect(broadcast.mock.calls.map((c) => c[1])).toEqual(['room_unavailable', 'room_available']);
    expect(broadcast).toHaveBeenLastCalledWith('r1', 'room_available', { room_id: 'r1', admin_node: 'node3' });
  });

  it('removes the members of a failed node, and of a restarted node only those of its previous run', () => {
    sut.onPeerFailed('node2');
    expect(host.removeMembersOf).toHaveBeenLastCalledWith('node2', 'Node unreachable');
    sut.onPeerRestarted('node2');
    expect(host.removeMembersOf).toHaveBeenLastCalledWith('node2', 'User disconnected', 'boot-new');
  });

  it('settles without rejecting when the announcement fails (a SIGTERM closed the store during the catch-up)', async () => {
    // Nobody awaits this promise: a rejection would be unhandled and end the process with exit code 1.
    roomsWithLocalMembers.mockImplementation(() => {
      throw new Error('statement has been finalized');
    });
    await expect(sut.onPeerReachable('node2')).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('statement has been finalized'));
  });
});
