import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import type { PeerResult } from '../../../common/protocol/peer-wire';
import { XmlRpcContext, XmlRpcFault, XmlRpcFaultCode } from '../../../common/xmlrpc';
import { messageWireProblem, peerParams } from '../../peers/rpc-params';
import { ReferenceBroadcasts } from './reference-broadcasts';
import { RoomDeletionParticipant } from './room-deletion.participant';

/**
 * The reference's peer methods a node serves for rooms a reference node hosts: its broadcasts and
 * its two-phase deletion (participant). Rooms of our own nodes never use them (their logs carry
 * everything). Each handler checks its params (PEER_PARAM_KINDS), calls one service method and
 * returns its result.
 */
@Controller()
export class ReplicaRpcController {
  constructor(
    private readonly broadcasts: ReferenceBroadcasts,
    private readonly deletion: RoomDeletionParticipant,
  ) {}

  @MessagePattern('receive_message_broadcast')
  async receiveMessageBroadcast(@Payload() params: unknown, @Ctx() ctx: XmlRpcContext): Promise<boolean> {
    const [roomId, message] = peerParams('receive_message_broadcast', params);
    const problem = message.room_id === roomId ? messageWireProblem(message) : 'message.room_id is not that room';
    if (problem) throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `receive_message_broadcast: message_data is not a ChatMessage of that room (${problem})`);
    return this.broadcasts.message(roomId, message, ctx.getPeer());
  }

  @MessagePattern('receive_member_event_broadcast')
  receiveMemberEventBroadcast(@Payload() params: unknown, @Ctx() ctx: XmlRpcContext): boolean {
    const [roomId, eventType, event] = peerParams('receive_member_event_broadcast', params);
    return this.broadcasts.memberEvent(roomId, eventType, event, ctx.getPeer());
  }

  @MessagePattern('prepare_delete_room')
  prepareDeleteRoom(@Payload() params: unknown): PeerResult<'prepare_delete_room'> {
    // the authenticator has checked that coordinator_node is the signer (or a configured peer)
    const [roomId, txn, coordinator, initiator] = peerParams('prepare_delete_room', params);
    return this.deletion.prepare(roomId, txn, coordinator, initiator ?? undefined);
  }

  @MessagePattern('commit_delete_room')
  commitDeleteRoom(@Payload() params: unknown, @Ctx() ctx: XmlRpcContext): PeerResult<'commit_delete_room'> {
    const [roomId, txn, roomName] = peerParams('commit_delete_room', params);
    return this.deletion.commit(roomId, txn, roomName ?? null, ctx.getPeer());
  }

  @MessagePattern('rollback_delete_room')
  rollbackDeleteRoom(@Payload() params: unknown, @Ctx() ctx: XmlRpcContext): PeerResult<'rollback_delete_room'> {
    const [roomId, txn] = peerParams('rollback_delete_room', params);
    return this.deletion.rollback(roomId, txn, ctx.getPeer());
  }
}
