import { Injectable } from '@nestjs/common';
import type { MessageRecord, RoomRecord } from '../../../common/store/chat-records';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';
import { toMessageWire, toRoomWire } from '../../../common/protocol/record-mappers';
import type { MemberEvent } from '../../../common/protocol/client-wire';
import { CommitLedger } from './commit-ledger';

/**
 * What a room's host does after each change: queue it for every peer's replica (ordered,
 * batched; see PeerOutbox) and tell its own sockets. Each method resolves once a majority of the
 * cluster has the change on disk (rejects retryably when it cannot): only then is a client told
 * it happened. Messages reach local sockets only then too (CommitLedger).
 */
@Injectable()
export class RoomEventPublisher {
  /** Messages this node sequenced as a host since start (chat_messages_total; read at scrape time). */
  sequencedMessages = 0;

  constructor(
    private readonly clients: ClientRegistry,
    private readonly peers: PeerDirectory,
    private readonly ledger: CommitLedger,
  ) {}

  roomChanged(room: RoomRecord): Promise<void> {
    return this.peers.replicate({ kind: 'room', room: toRoomWire(room) });
  }

  /** Resolves when the sender may be told: a majority stored it and local members were shown it. */
  messageSequenced(message: MessageRecord, epoch: number): Promise<void> {
    this.sequencedMessages++;
    return this.ledger.track(message, this.peers.replicate({ kind: 'message', message: toMessageWire(message), epoch }));
  }

  /** A message sequenced earlier that no majority is known to hold yet (a retry, a new epoch): replicated again, shown at commit. */
  messageResent(message: MessageRecord, epoch: number): Promise<void> {
    return this.ledger.track(message, this.peers.replicate({ kind: 'message', message: toMessageWire(message), epoch }));
  }

  /** Tells local sockets and every replica that the room is gone, then forgets its sockets. */
  roomDeleted(room: RoomRecord, transactionId: string | null): Promise<void> {
    this.clients.broadcast(room.roomId, 'room_deleted', {
      room_id: room.roomId,
      room_name: room.roomName,
      message: `Room '${room.roomName}' has been deleted`,
      ...(transactionId ? { transaction_id: transactionId } : {}),
    });
    this.clients.unregisterRoom(room.roomId);
    return this.peers.replicate({ kind: 'deleted', room_id: room.roomId, room_name: room.roomName, transaction_id: transactionId, epoch: room.hostEpoch });
  }

  memberChanged(type: 'member_joined' | 'member_left', event: MemberEvent, memberNode: string, epoch: number): Promise<void> {
    this.clients.broadcast(event.room_id, type, event, event.username);
    return this.peers.replicate({ kind: 'member', event_type: type, event, node_id: memberNode, epoch });
  }
}
