import { Module } from '@nestjs/common';
import { bootIdProvider } from './boot-id';
import { ClusterController } from './cluster.controller';
import { PeerAuthenticator } from './peer-authenticator';
import { PeerDirectory } from './peer-directory';
import { PeerHealthMonitor } from './peer-health.monitor';
import { FailoverProbe } from './failover-probe';
import { PeersRpcController } from './peers.rpc.controller';
import { NodeDisk } from './node-disk';

@Module({
  controllers: [PeersRpcController, ClusterController],
  providers: [PeerDirectory, PeerHealthMonitor, FailoverProbe, PeerAuthenticator, NodeDisk, bootIdProvider],
  exports: [PeerDirectory, PeerHealthMonitor, PeerAuthenticator, NodeDisk, bootIdProvider],
})
export class PeersModule {}
