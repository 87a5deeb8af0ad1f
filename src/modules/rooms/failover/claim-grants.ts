import { Inject, Injectable, Logger } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import type { ClaimAnswer } from '../../../common/protocol/peer-wire';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';
import { PeerDirectory } from '../../peers/peer-directory';

/**
 * The voter's side of a failover (claim_room): a node grants a candidate a room's next epoch once,
 * only while the room's host does not answer here either (or the candidate is that host, back from
 * a restart), and durably: from then on it refuses every older epoch (RoomHostAuthority).
 */
@Injectable()
export class ClaimGrants {
  private readonly logger = new Logger(ClaimGrants.name);

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
    private readonly peers: PeerDirectory,
  ) {}

  answer(roomId: string, epoch: number, candidate: string): ClaimAnswer {
    const room = this.store.getRoom(roomId);
    const self = this.config.nodeId;
    if (!room) {
      const deleted = this.store.getTombstone(roomId) !== null;
      return { granted: false, node_id: self, log_epoch: 0, last_sequence: 0, host_node: '', host_epoch: 0, promised_epoch: 0, deleted, reason: deleted ? 'the room was deleted' : 'this node does not know the room' };
    }
    const refuse = (reason: string): ClaimAnswer => ({
      granted: false,
      node_id: self,
      log_epoch: room.logEpoch,
      last_sequence: room.lastSequence,
      host_node: room.hostNode,
      host_epoch: room.hostEpoch,
      promised_epoch: room.promisedEpoch,
      reason,
    });
    if (room.hostNode === self && candidate !== self) return refuse(`${self} hosts the room and is alive`);
    if (epoch <= room.promisedEpoch) return refuse(`epoch ${room.promisedEpoch} was already promised`);
    const hostAnswers = room.hostNode !== candidate && !this.peers.isSuspected(room.hostNode) && !this.peers.isFailed(room.hostNode) && this.peers.has(room.hostNode);
    if (hostAnswers) return refuse(`the host ${room.hostNode} still answers ${self}`);
    this.store.setEpochs(roomId, { ...room, promisedEpoch: epoch }); // on disk before the grant leaves (synchronous=FULL)
    this.logger.log(`Granted epoch ${epoch} of room '${room.roomName}' (${roomId}) to ${candidate} (host was ${room.hostNode}, epoch ${room.hostEpoch})`);
    return { granted: true, node_id: self, log_epoch: room.logEpoch, last_sequence: room.lastSequence, host_node: room.hostNode, host_epoch: room.hostEpoch, promised_epoch: epoch };
  }
}
