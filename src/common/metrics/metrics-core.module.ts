import { Global, Module } from '@nestjs/common';
import { ChatMetrics } from './chat-metrics';
import { ClientErrorFrames } from './client-error-frames';

/** The registry every module may record into; the metrics feature module reads and serves it. */
@Global()
@Module({ providers: [ChatMetrics, ClientErrorFrames], exports: [ChatMetrics, ClientErrorFrames] })
export class MetricsCoreModule {}
