import { Module } from '@nestjs/common';
import { bootIdProvider } from './boot-id';
import { ClusterController } from './cluster.controller';
import { PeerAuthenticator } from './peer-authenticator';
import { PeerDirectory } from './peer-directory';
import { PeerPulse } from './peer-pulse';
import { PeersRpcController } from './peers.rpc.controller';
import { NodeDisk } from './node-disk';

@Module({
  controllers: [PeersRpcController, ClusterController],
  providers: [PeerDirectory, PeerPulse, PeerAuthenticator, NodeDisk, bootIdProvider],
  exports: [PeerDirectory, PeerPulse, PeerAuthenticator, NodeDisk, bootIdProvider],
})
export class PeersModule {}
