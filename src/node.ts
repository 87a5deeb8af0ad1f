import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppModule } from './app.module';
import type { NodeConfig } from './common/config/node-config';
import { certificateNames } from './common/config/peer-tls-settings';
import { NodeLogger } from './common/logging/node-logger';
import { ClientErrorFrames } from './common/metrics/client-error-frames';
import { ChatStore } from './common/store/chat-store';
import { securityHeaders } from './common/http/security-headers';
import { ChatWsAdapter } from './common/ws/chat-ws-adapter';
import { UpgradeGate } from './common/ws/upgrade-gate';
import { XmlRpcServer } from './common/xmlrpc';
import { PeerAuthenticator } from './modules/peers/peer-authenticator';

/** The browser client bundled by `npm run build` (absent until it is built). */
const PUBLIC_DIR = path.join(__dirname, 'public');

export interface RunningNode {
  app: NestExpressApplication;
  config: NodeConfig;
  stop(): Promise<void>;
}

/**
 * Starts one chat node: logger and store first (so a bad LOG_DIR or DATA_DIR stops the node with
 * a message naming it), then the Nest app with the client WebSocket/HTTP server and the XML-RPC
 * transport for peers.
 */
export async function startNode(config: NodeConfig): Promise<RunningNode> {
  const logger = new NodeLogger({ nodeId: config.nodeId, level: config.logLevel, format: config.logFormat, dir: config.logDir, peerIds: config.peers.map((p) => p.nodeId) });
  const store = ChatStore.open(config.dataDir);
  const log = new Logger('ChatNode');
  let app: NestExpressApplication | undefined;
  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.forNode(config, store), { logger, abortOnError: false });
    app.useWebSocketAdapter(new ChatWsAdapter(app, app.get(ClientErrorFrames), new UpgradeGate(config)));
    app.use(securityHeaders);
    app.use(compression()); // the web client is ~45 KB plain, ~14 KB gzipped
    if (fs.existsSync(path.join(PUBLIC_DIR, 'index.html'))) app.useStaticAssets(PUBLIC_DIR, { index: 'index.html', extensions: ['html'] }); // /status serves status.html
    const authenticator = app.get(PeerAuthenticator);
    const tls = config.peerTls ? { cert: config.peerTls.cert, key: config.peerTls.key } : undefined;
    app.connectMicroservice({ strategy: new XmlRpcServer({ host: config.xmlrpcHost, port: config.xmlrpcPort, authenticator, tls, maxConnections: config.xmlrpcMaxConnections }) }, { inheritAppConfig: true });
    await app.startAllMicroservices();
    log.log(`XML-RPC server listening on ${config.xmlrpcHost}:${config.xmlrpcPort}${tls ? ` (TLS, certificate for ${certificateNames(tls.cert)})` : ''} (advertised as ${config.xmlrpcAddress})`);
    await app.listen(config.websocketPort, config.websocketHost);
    log.log(`WebSocket server listening on ws://${config.websocketHost}:${config.websocketPort} (HTTP /health on the same port)`);
    log.log(`Node ${config.nodeId} started with ${config.peers.length} peer(s): ${config.peers.map((p) => `${p.nodeId}=${p.url}`).join(', ') || 'none'}`);
    if (!config.peerSecret) {
      log.warn('PEER_SECRET is not set: XML-RPC peer calls are not authenticated, so anyone who reaches the XML-RPC port can read and change every room. Set PEER_SECRET or PEER_SECRET_FILE on every node outside a trusted network.');
    } else {
      log.log('Peer calls and their replies are signed with the cluster secret; only heartbeat() answers unsigned calls');
    }
    log.debug(`Debug logging is on (LOG_LEVEL=${config.logLevel})`);
  } catch (e) {
    await app?.close().catch(() => undefined);
    store.close();
    await logger.close();
    throw e;
  }
  const running = app;
  let stopping: Promise<void> | undefined;
  return {
    app: running,
    config,
    stop: () =>
      (stopping ??= (async () => {
        log.log(`Node ${config.nodeId} shutting down`);
        await running.close();
        store.close();
        await logger.close();
      })()),
  };
}
