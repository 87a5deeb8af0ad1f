import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { PeerResult } from '../../../common/protocol/peer-wire';
import { XmlRpcFault, XmlRpcFaultCode } from '../../../common/xmlrpc';
import { NodeDisk } from '../../peers/node-disk';
import { PeerDirectory } from '../../peers/peer-directory';
import { peerParams } from '../../peers/rpc-params';
import { RoomLogPeers } from './room-log-peers';
import { WireRefusal } from './room-log-wire';

/** The peer method that carries the rooms' logs (room_log_json): check, one service call, reply. */
@Controller()
export class RoomLogRpcController {
  constructor(
    private readonly logs: RoomLogPeers,
    private readonly peers: PeerDirectory,
    private readonly disk: NodeDisk,
  ) {}

  @MessagePattern('room_log_json')
  async roomLog(@Payload() params: unknown): Promise<PeerResult<'room_log_json'>> {
    // the authenticator has checked that from_node is the signer (or a configured peer)
    const [from, batch, fromDisk] = peerParams('room_log_json', params);
    if (this.peers.otherViews().some((v) => v.peer === from)) {
      throw new XmlRpcFault(XmlRpcFaultCode.PeerNotAuthorised, `${from} is configured with another list of nodes; its room log messages are not taken`);
    }
    const refusal = this.disk.refusal(from, fromDisk ?? undefined);
    if (refusal) throw new XmlRpcFault(XmlRpcFaultCode.PeerNotAuthorised, `room_log_json: ${refusal}; not taken`);
    try {
      return await this.logs.receive(from, batch);
    } catch (e) {
      if (e instanceof WireRefusal) throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `room_log_json: ${e.message}`);
      throw e;
    }
  }
}
