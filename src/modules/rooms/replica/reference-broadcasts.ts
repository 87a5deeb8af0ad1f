import { Injectable } from '@nestjs/common';
import type { ChatMessage, MemberEvent } from '../../../common/protocol/client-wire';
import { fromMessageWire } from '../../../common/protocol/record-mappers';
import { XmlRpcFault, XmlRpcFaultCode } from '../../../common/xmlrpc';
import { ClientRegistry } from '../../members/client-registry';
import { ReplicaService } from './replica.service';
import { RoomHostAuthority } from './room-host-authority';

const MEMBER_EVENTS = new Set(['member_joined', 'member_left']);

/**
 * The reference protocol's broadcast methods, as a replica receives them: only from the room's
 * host, and only what a host may announce (a message of that room, a member event).
 */
@Injectable()
export class ReferenceBroadcasts {
  constructor(
    private readonly replica: ReplicaService,
    private readonly clients: ClientRegistry,
    private readonly authority: RoomHostAuthority,
  ) {}

  async message(roomId: string, message: ChatMessage, sender: string | null): Promise<boolean> {
    this.authority.check('receive_message_broadcast', roomId, sender);
    this.replica.deliverForeign(fromMessageWire(message));
    return true;
  }

  memberEvent(roomId: string, eventType: string, event: MemberEvent, sender: string | null): boolean {
    this.authority.check('receive_member_event_broadcast', roomId, sender);
    // Only member events are relayed: a caller must not be able to inject arbitrary client frames.
    if (!MEMBER_EVENTS.has(eventType) || typeof event.username !== 'string') {
      throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, 'receive_member_event_broadcast: event_type must be member_joined or member_left');
    }
    this.clients.broadcast(roomId, eventType as 'member_joined', { ...event, room_id: roomId }, event.username);
    return true;
  }
}
