import { Injectable } from '@nestjs/common';
import type { MessageRecord, RoomRecord } from '../../../common/store/chat-records';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import { toChatMessage, toMessageWire, toRoomWire } from '../../../common/protocol/record-mappers';
import type { MemberEvent } from '../../../common/protocol/client-wire';

/**
 * What a room's host does after each change: deliver to its own sockets, then queue the change
 * for every peer's replica (ordered, batched; see PeerOutbox).
 */
@Injectable()
export class RoomEventPublisher {
  /** Messages this node sequenced as a host since start (chat_messages_total; read at scrape time). */
  sequencedMessages = 0;

  constructor(
    private readonly clients: ClientRegistry,
    private readonly peers: PeerDirectory,
  ) {}

  roomChanged(room: RoomRecord): void {
    this.peers.replicate({ kind: 'room', room: toRoomWire(room) });
  }

  messageSequenced(message: MessageRecord): void {
    this.sequencedMessages++;
    this.clients.deliverMessage(toChatMessage(message));
    this.peers.replicate({ kind: 'message', message: toMessageWire(message) });
  }

  /** Tells local sockets and every replica that the room is gone, then forgets its sockets. */
  roomDeleted(room: RoomRecord, transactionId: string | null): void {
    this.clients.broadcast(room.roomId, 'room_deleted', {
      room_id: room.roomId,
      room_name: room.roomName,
      message: `Room '${room.roomName}' has been deleted`,
      ...(transactionId ? { transaction_id: transactionId } : {}),
    });
    this.clients.unregisterRoom(room.roomId);
    this.peers.replicate({ kind: 'deleted', room_id: room.roomId, room_name: room.roomName, transaction_id: transactionId });
  }

  memberChanged(type: 'member_joined' | 'member_left', event: MemberEvent, memberNode: string): void {
    this.clients.broadcast(event.room_id, type, event, event.username);
    this.peers.replicate({ kind: 'member', event_type: type, event, node_id: memberNode });
  }
}
