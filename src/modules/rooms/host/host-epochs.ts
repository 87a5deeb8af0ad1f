import { Inject, Injectable } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { hostUnavailable } from '../../../common/errors/chat-error';
import { CHAT_STORE, ChatStore } from '../../../common/store/chat-store';

/** The host's side of "every call names its epoch": a member node that knows a newer epoch than this host is not talking to the current host. */
@Injectable()
export class HostEpochs {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(CHAT_STORE) private readonly store: ChatStore,
  ) {}

  /** `callerEpoch` null: a node before failover (or the reference), which names none. */
  checkCallerEpoch(roomId: string, callerEpoch: number | null): void {
    if (callerEpoch === null) return;
    const room = this.store.getRoom(roomId);
    if (!room || room.hostNode !== this.config.nodeId) return; // hostedRoom() refuses it with the right code
    if (callerEpoch > room.hostEpoch || room.promisedEpoch > room.hostEpoch) {
      throw hostUnavailable(`This node hosted the room at epoch ${room.hostEpoch}, but a newer epoch exists; retry shortly`);
    }
  }
}
