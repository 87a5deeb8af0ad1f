import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { BOOT_ID } from './boot-id';
import type { PeerResult } from '../../common/protocol/peer-wire';
import { peerParams } from './rpc-params';
import { NodeDisk } from './node-disk';
import { PeerDirectory } from './peer-directory';
import type { XmlRpcContext } from '../../common/xmlrpc';

/** `heartbeat()`: the peers' liveness check and the operators' health probe. */
@Controller()
export class PeersRpcController {
  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    @Inject(BOOT_ID) private readonly bootId: string,
    private readonly clock: Clock,
    private readonly disk: NodeDisk,
    private readonly peers: PeerDirectory,
  ) {}

  @MessagePattern('heartbeat')
  heartbeat(@Payload() params: unknown, @Ctx() ctx?: XmlRpcContext): PeerResult<'heartbeat'> {
    const [callerNode, callerDisk] = peerParams('heartbeat', params);
    // a peer's signed heartbeat shows it alive as well as its answer to ours would (PeerPulse then need not probe it)
    const caller = ctx?.getPeer();
    if (caller) this.peers.heardFrom(caller);
    // the caller's disk is remembered before the answer names it: a fresh disk decides it is clean
    // only on answers that name it, and from then on this node refuses its old disk's late calls
    if (callerNode && callerDisk && this.peers.nodeIds.includes(callerNode) && (caller === callerNode || this.config.peerSecret === null)) {
      this.disk.heard(callerNode, callerDisk, undefined);
    }
    return {
      status: 'ok',
      node_id: this.config.nodeId,
      timestamp: this.clock.iso(),
      boot_id: this.bootId,
      client_url: this.config.clientUrl ?? '',
      disk_id: this.disk.diskId,
      disks: this.disk.memory(),
      cluster_view: this.disk.clusterView,
    };
  }
}
