import { DynamicModule, Global, Module } from '@nestjs/common';
import { NODE_CONFIG, type NodeConfig } from './node-config';

/** Makes the validated NodeConfig injectable everywhere as NODE_CONFIG. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: NodeConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: NODE_CONFIG, useValue: config }], exports: [NODE_CONFIG] };
  }
}
