import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { PeerResult } from '../../../common/protocol/peer-wire';
import { isChatName, LIMITS } from '../../../common/protocol/text-limits';
import { XmlRpcFault, XmlRpcFaultCode } from '../../../common/xmlrpc';
import { peerParams } from '../../peers/rpc-params';
import { TypingNotices } from './typing-notices.service';

/**
 * `typing_notice` from a peer whose member is typing. Signed like every peer call (its sender
 * param must be the signer: SENDER_PARAM); params of the wrong kind or out of bounds are a
 * -32602 fault.
 */
@Controller()
export class TypingRpcController {
  constructor(private readonly typing: TypingNotices) {}

  @MessagePattern('typing_notice')
  typingNotice(@Payload() params: unknown): PeerResult<'typing_notice'> {
    const [roomId, username, senderNode] = peerParams('typing_notice', params);
    if (!isChatName(roomId, LIMITS.roomId)) throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `typing_notice: room_id must be 1-${LIMITS.roomId} characters`);
    if (!isChatName(username, LIMITS.username)) throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `typing_notice: username must be 1-${LIMITS.username} characters`);
    return this.typing.fromPeer(roomId, username, senderNode);
  }
}
