import { Module } from '@nestjs/common';
import { bootIdProvider } from './boot-id';
import { ClusterController } from './cluster.controller';
import { PeerDirectory } from './peer-directory';
import { PeerHealthMonitor } from './peer-health.monitor';
import { PeersRpcController } from './peers.rpc.controller';

@Module({
  controllers: [PeersRpcController, ClusterController],
  providers: [PeerDirectory, PeerHealthMonitor, bootIdProvider],
  exports: [PeerDirectory, PeerHealthMonitor, bootIdProvider],
})
export class PeersModule {}
