import { Injectable, Logger } from '@nestjs/common';
import { logFields } from '../logging/log-fields';
import { ChatMetrics } from './chat-metrics';

/**
 * The one place a client error frame is serialised: every refusal (adapter, exception filter,
 * forwarded sends) passes here, so chat_rejected_total and the error_code log field see them all.
 */
@Injectable()
export class ClientErrorFrames {
  private readonly logger = new Logger('ChatRequests');

  constructor(private readonly metrics: ChatMetrics) {}

  /** Counts the refusal, logs it (DEBUG, with error_code) and returns the frame's JSON text. */
  serialise(request: string, code: string, reason: string, frame: { type: string; data: object }): string {
    this.metrics.rejected(code);
    if (Logger.isLevelEnabled('debug')) this.logger.debug(logFields(`${request} refused: ${code} ${reason}`, { error_code: code }));
    return JSON.stringify(frame);
  }
}
