import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';

/**
 * Who may read /health's details (peer addresses, store file, error texts): requests from this
 * host's loopback interface (the container healthcheck, an operator on the machine) and callers
 * presenting the operators' token as `Authorization: Bearer <HEALTH_TOKEN>`. Others see the status
 * only. Never the cluster secret: the client port is plain HTTP, and a secret sent there would
 * let whoever sees it sign peer calls.
 */
@Injectable()
export class HealthAccess {
  private readonly token: Buffer | null;

  constructor(@Inject(NODE_CONFIG) config: NodeConfig) {
    this.token = config.healthToken ? Buffer.from(config.healthToken) : null;
  }

  mayReadDetails(req: Pick<IncomingMessage, 'headers' | 'socket'>): boolean {
    return isLoopback(req.socket.remoteAddress) || this.presentsToken(req.headers.authorization);
  }

  private presentsToken(header: string | undefined): boolean {
    if (!this.token || !header?.startsWith('Bearer ')) return false;
    const given = Buffer.from(header.slice('Bearer '.length).trim());
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
