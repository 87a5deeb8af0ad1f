import { Test } from '@nestjs/testing';
import { XmlRpcFault, XmlRpcFaultCode } from '../../../common/xmlrpc';
import { HostPeerRequests } from './host-peer-requests.service';
import { HostRpcController } from './host.rpc.controller';
import { PrivateRoomPeerRequests } from './private-room-peer-requests.service';
import { ModerationPeerRequests } from './moderation-peer-requests.service';
import { RoomStatePages } from './room-state-pages';

/** A fake with methods `names` that record which was called, with what. */
const recorder = (calls: unknown[][], names: string[]) =>
  Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => (calls.push([name, ...args]), name === 'sequenceAll' ? Promise.resolve([{ success: true }]) : { success: true })]));

describe(HostRpcController.name, () => {
  let sut: HostRpcController;
  let calls: unknown[][];

  beforeEach(async () => {
    calls = [];
    const moduleRef = await Test.createTestingModule({
      controllers: [HostRpcController],
      providers: [
        { provide: HostPeerRequests, useValue: recorder(calls, ['hostedRooms', 'join', 'leave', 'memberDisconnected', 'sequenceAll', 'messages', 'deleteRoom']) },
        { provide: RoomStatePages, useValue: recorder(calls, ['page']) },
        { provide: PrivateRoomPeerRequests, useValue: recorder(calls, ['invite', 'openDirect']) },
        { provide: ModerationPeerRequests, useValue: recorder(calls, ['moderate']) },
      ],
    }).compile();
    sut = moduleRef.get(HostRpcController);
  });

  it('hands each method\'s checked params to one service call', async () => {
    await sut.joinRoom(['r1', 'alice', 'node2']);
    await sut.joinRoom(['r1', 'alice', 'node2', 'boot-1', 3]);
    sut.leaveRoom(['r1', 'alice', 'node2']);
    sut.notifyMemberDisconnect(['r1', 'alice', 'node2', null]);
    sut.getMessages(['r1', 0, null, 50]);
    sut.getMessages(['r1', 0, null, 50, true]); // visible_only from older callers: every message stored is committed
    sut.getRoomStates([]);
    await sut.deleteRoom(['r1', 'alice', 'node2']);
    expect(calls).toEqual([
      ['join', 'r1', 'alice', 'node2', null],
      ['join', 'r1', 'alice', 'node2', 'boot-1'], // the host epoch a caller names is not needed: only the host answers
      ['leave', 'r1', 'alice', 'node2'],
      ['memberDisconnected', 'r1', 'alice', 'node2', null],
      ['messages', 'r1', 0, null, 50],
      ['messages', 'r1', 0, null, 50],
      ['page', null],
      ['deleteRoom', 'r1', 'alice', 'node2'],
    ]);
  });

  it('hands invite_user and open_direct to the private rooms\' peer requests, without the sender (checked by the transport)', async () => {
    await sut.inviteUser(['r1', 'alice', 'bob', 'node2']);
    await sut.openDirect(['dave', 'erin', 'node2']);
    expect(calls).toEqual([
      ['invite', 'r1', 'alice', 'bob'],
      ['openDirect', 'dave', 'erin'],
    ]);
    expect(() => sut.openDirect(['dave', 7, 'node2'])).toThrow();
  });

  it('sequences a single forward, a struct batch and a JSON batch through the same sequenceAll', async () => {
    const item = { room_id: 'r1', username: 'alice', content: 'hi', client_message_id: null };
    expect(await sut.forwardMessage(['r1', 'alice', 'hi', 'node2'])).toEqual({ success: true });
    await sut.forwardMessages(['node2', [item]]);
    expect(JSON.parse(await sut.forwardMessagesJson(['node2', JSON.stringify([item])]))).toEqual([{ success: true }]);
    expect(calls).toEqual([['sequenceAll', [item]], ['sequenceAll', [item]], ['sequenceAll', [item]]]);
  });

  it('takes a single forward that names a host epoch (older nodes send one) and its client_message_id', async () => {
    await sut.forwardMessage(['r1', 'alice', 'hi', 'node2', 'c1', 4]);
    expect(calls).toEqual([['sequenceAll', [{ room_id: 'r1', username: 'alice', content: 'hi', client_message_id: 'c1' }]]]);
  });

  it('hands moderate_member to the moderation peer requests, without the sender, reason and seconds nil when left out', async () => {
    await sut.moderateMember(['r1', 'alice', 'kick', 'bob', 'node2', 'rude']);
    await sut.moderateMember(['r1', 'alice', 'mute', 'bob', 'node2', null, 30]);
    expect(() => sut.moderateMember(['r1', 'alice', 'mute', 'bob', 'node2', null, 'soon'])).toThrow(expect.objectContaining({ code: XmlRpcFaultCode.InvalidParams }));
    expect(calls).toEqual([
      ['moderate', 'r1', 'alice', 'kick', 'bob', 'rude', null],
      ['moderate', 'r1', 'alice', 'mute', 'bob', null, 30],
    ]);
  });

  it('refuses mistyped params with -32602 before any service call', async () => {
    const faults = [
      () => sut.leaveRoom(['r1', 5, 'node2']),
      () => sut.getMessages(['r1', 0, 50]),
    ].map((fn) => {
      try {
        fn();
      } catch (e) {
        return e;
      }
    });
    await expect(sut.joinRoom(['r1'])).rejects.toBeInstanceOf(XmlRpcFault);
    await expect(sut.forwardMessagesJson(['node2', '{"not":"an array"}'])).rejects.toMatchObject({ code: XmlRpcFaultCode.InvalidParams });
    for (const f of faults) expect(f).toMatchObject({ code: XmlRpcFaultCode.InvalidParams });
    expect(calls).toEqual([]);
  });
});
