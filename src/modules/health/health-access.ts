import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';

/**
 * Who may read /health's details (peer addresses, store file, error texts): requests from this
 * host's loopback interface (the container healthcheck, an operator on the machine) and callers
 * presenting the cluster secret as `Authorization: Bearer <PEER_SECRET>`. Others see the status only.
 */
@Injectable()
export class HealthAccess {
  private readonly secret: Buffer | null;

  constructor(@Inject(NODE_CONFIG) config: NodeConfig) {
    this.secret = config.peerSecret ? Buffer.from(config.peerSecret) : null;
  }

  mayReadDetails(req: Pick<IncomingMessage, 'headers' | 'socket'>): boolean {
    return isLoopback(req.socket.remoteAddress) || this.presentsSecret(req.headers.authorization);
  }

  private presentsSecret(header: string | undefined): boolean {
    if (!this.secret || !header?.startsWith('Bearer ')) return false;
    const given = Buffer.from(header.slice('Bearer '.length).trim());
    return given.length === this.secret.length && timingSafeEqual(given, this.secret);
  }
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
