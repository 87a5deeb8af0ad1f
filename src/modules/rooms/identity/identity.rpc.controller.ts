import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { PeerResult } from '../../../common/protocol/peer-wire';
import { peerParams } from '../../peers/rpc-params';
import { UsernameGuard } from './username-guard';

/** A peer asking whether a live connection on this node holds a name (open mode's identity rule). */
@Controller()
export class IdentityRpcController {
  constructor(private readonly names: UsernameGuard) {}

  @MessagePattern('is_username_held')
  isUsernameHeld(@Payload() params: unknown): PeerResult<'is_username_held'> {
    const [username] = peerParams('is_username_held', params);
    return this.names.isHeldHere(username);
  }
}
