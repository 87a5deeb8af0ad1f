import { Inject, Injectable } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from '../../../common/config/node-config';
import { ChatError } from '../../../common/errors/chat-error';
import { MemberRepository } from '../../../common/store/member.repository';
import type { ClientConnection } from '../../members/client-connection';
import { ClientRegistry } from '../../members/client-registry';
import { PeerDirectory } from '../../peers/peer-directory';

/** How long the node holding a name may take to say whether its connection is still open. */
const HOLDER_CHECK_TIMEOUT_MS = 2000;

/**
 * Open mode's one identity rule: a username that a live connection holds (it is in some room under
 * that name) cannot be used by any other connection on any node. The replica's member rows say which
 * nodes may hold a name; only the node itself says whether the connection is still open, so a client
 * whose old connection closed (or whose node restarted or failed) can take its name again at once.
 * In token mode the token proves the name, so several connections of one user are allowed.
 */
@Injectable()
export class UsernameGuard {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly members: MemberRepository,
    private readonly clients: ClientRegistry,
    private readonly peers: PeerDirectory,
  ) {}

  /** A local connection acting as `username`: refused when another live connection holds it. */
  async assertFreeFor(conn: ClientConnection, username: string): Promise<void> {
    if (this.config.authMode === 'token' || this.clients.holds(conn, username)) return;
    if (this.clients.isHeldByAnother(username, conn)) throw taken(username, this.config.nodeId);
    await this.assertNoRemoteHolder(username, [this.config.nodeId]);
  }

  /** A request forwarded by `requestingNode` (which checked its own connections) as `username`. */
  async assertFreeForPeer(requestingNode: string, username: string): Promise<void> {
    if (this.config.authMode === 'token' || requestingNode === this.config.nodeId) return;
    if (this.clients.isHeldByAnother(username)) throw taken(username, this.config.nodeId);
    await this.assertNoRemoteHolder(username, [this.config.nodeId, requestingNode]);
  }

  /** The answer to a peer's is_username_held. */
  isHeldHere(username: string): boolean {
    return this.clients.isHeldByAnother(username);
  }

  /** Asks each other node the name is a member through; an unreachable node vouches for nobody. */
  private async assertNoRemoteHolder(username: string, except: string[]): Promise<void> {
    const candidates = this.members.memberNodesOf(username).filter((n) => !except.includes(n) && this.peers.has(n) && !this.peers.isFailed(n));
    if (candidates.length === 0) return;
    const timeout = Math.min(HOLDER_CHECK_TIMEOUT_MS, this.config.peerCallTimeoutMs);
    const answers = await Promise.all(
      candidates.map((n) => this.peers.call(n, 'is_username_held', [username], timeout).then((held) => (held === true ? n : null), () => null)),
    );
    const holder = answers.find((n) => n !== null);
    if (holder) throw taken(username, holder);
  }
}

function taken(username: string, nodeId: string): ChatError {
  return new ChatError(
    'USERNAME_TAKEN',
    `The name '${username}' is in use by another live connection (through ${nodeId}); pick another name, or close that connection first`,
  );
}
