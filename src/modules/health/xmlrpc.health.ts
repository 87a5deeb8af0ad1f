import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import * as net from 'node:net';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';

/** This node's XML-RPC port accepts connections (what peers and the heartbeat probe need). */
@Injectable()
export class XmlRpcHealthIndicator {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly health: HealthIndicatorService,
  ) {}

  async check() {
    const session = this.health.check('xmlrpc');
    const host = this.config.xmlrpcHost === '0.0.0.0' || this.config.xmlrpcHost === '::' ? '127.0.0.1' : this.config.xmlrpcHost;
    const details = { address: `${this.config.xmlrpcHost}:${this.config.xmlrpcPort}` };
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port: this.config.xmlrpcPort, timeout: 1000 });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => (socket.destroy(), resolve(false)));
    });
    return ok ? session.up(details) : session.down(details);
  }
}
