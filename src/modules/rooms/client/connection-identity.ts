import { Inject, Injectable } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError } from '../../../common/errors/chat-error';
import type { ClientConnection } from '../../members/client-connection';
import { UsernameGuard } from '../identity/username-guard';

/**
 * A connection speaks for one user: the one it first joined as (or its token names), and only
 * while no other live connection holds that name. Asked by every request that acts as a user.
 */
@Injectable()
export class ConnectionIdentity {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly names: UsernameGuard,
  ) {}

  async assert(conn: ClientConnection, username: string): Promise<void> {
    if (conn.username !== null && conn.username !== username) {
      throw new ChatError('UNAUTHORIZED', `Username does not match this connection (${this.config.authMode === 'token' ? 'its token names' : 'joined as'} '${conn.username}')`);
    }
    await this.names.assertFreeFor(conn, username);
  }
}
