import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import type { PeerResult, ReplicationEvent } from '../../../common/protocol/peer-wire';
import { XmlRpcContext, XmlRpcFault, XmlRpcFaultCode } from '../../../common/xmlrpc';
import { checkReplicationEvents, messageWireProblem, parseJsonArray, peerParams } from '../../peers/rpc-params';
import { PeerCatchUp } from './peer-catch-up.service';
import { ReferenceBroadcasts } from './reference-broadcasts';
import { ReplicaService } from './replica.service';
import { RoomDeletionParticipant } from './room-deletion.participant';

/**
 * The peer methods every replica serves: a host's replication batches and broadcasts, its
 * deletion transactions (2PC participant), and a peer's request to catch up. Each handler checks
 * its params (PEER_PARAM_KINDS), calls one service method and returns its result.
 */
@Controller()
export class ReplicaRpcController {
  constructor(
    private readonly replica: ReplicaService,
    private readonly broadcasts: ReferenceBroadcasts,
    private readonly deletion: RoomDeletionParticipant,
    private readonly catchUp: PeerCatchUp,
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
    const [roomId, txn, coordinator, initiator, epoch] = peerParams('prepare_delete_room', params);
    return this.deletion.prepare(roomId, txn, coordinator, initiator ?? undefined, epoch ?? null);
  }

  @MessagePattern('commit_delete_room')
  commitDeleteRoom(@Payload() params: unknown, @Ctx() ctx: XmlRpcContext): PeerResult<'commit_delete_room'> {
    const [roomId, txn, roomName, epoch] = peerParams('commit_delete_room', params);
    return this.deletion.commit(roomId, txn, roomName ?? null, ctx.getPeer(), epoch ?? null);
  }

  @MessagePattern('rollback_delete_room')
  rollbackDeleteRoom(@Payload() params: unknown, @Ctx() ctx: XmlRpcContext): PeerResult<'rollback_delete_room'> {
    const [roomId, txn, epoch] = peerParams('rollback_delete_room', params);
    return this.deletion.rollback(roomId, txn, ctx.getPeer(), epoch ?? null);
  }

  @MessagePattern('replicate_events')
  async replicateEvents(@Payload() params: unknown): Promise<boolean> {
    const [fromNode, events] = peerParams('replicate_events', params);
    checkReplicationEvents(events);
    await this.replica.receive(fromNode, events);
    return true;
  }

  @MessagePattern('replicate_events_json')
  async replicateEventsJson(@Payload() params: unknown): Promise<boolean> {
    const [fromNode, json] = peerParams('replicate_events_json', params);
    const events = parseJsonArray('replicate_events_json', 'events_json', json);
    checkReplicationEvents(events);
    await this.replica.receive(fromNode, events as ReplicationEvent[]);
    return true;
  }

  @MessagePattern('request_sync')
  requestSync(@Payload() params: unknown): boolean {
    const [fromNode] = peerParams('request_sync', params);
    void this.catchUp.syncFrom(fromNode);
    return true;
  }
}
