import 'reflect-metadata';
import { ConfigError } from './common/config/config-error';
import { loadConfig } from './common/config/load-config';

/** Entry point of one chat node: `node dist/main.js`, configured by environment variables. */
async function main(): Promise<void> {
  const config = loadConfig(); // before loading Nest, so a bad setting fails fast and alone
  const { startNode } = require('./node') as typeof import('./node');
  const node = await startNode(config);
  const shutdown = (signal: string) => {
    process.stdout.write(`Received ${signal}, stopping\n`);
    node.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`Node failed to start: ${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
