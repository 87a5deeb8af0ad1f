import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { PeerResult } from '../../../common/protocol/peer-wire';
import { peerParams } from '../../peers/rpc-params';
import { ClaimGrants } from './claim-grants';

/** The peer method of failover elections: a candidate's claim of a room's next epoch. */
@Controller()
export class FailoverRpcController {
  constructor(private readonly grants: ClaimGrants) {}

  @MessagePattern('claim_room')
  claimRoom(@Payload() params: unknown): PeerResult<'claim_room'> {
    // the authenticator has checked that the candidate is the signer (or a configured peer)
    const [roomId, epoch, candidate] = peerParams('claim_room', params);
    return this.grants.answer(roomId, epoch, candidate);
  }
}
