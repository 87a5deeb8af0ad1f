import type { IncomingMessage } from 'node:http';
import { BaseRpcContext } from '@nestjs/microservices';

/** What a @MessagePattern handler can read with @Ctx() besides its params: the method, the HTTP request, the verified caller. */
export class XmlRpcContext extends BaseRpcContext<[method: string, request: IncomingMessage, peer?: string | null]> {
  getMethod(): string {
    return this.args[0];
  }

  getRequest(): IncomingMessage {
    return this.args[1];
  }

  /** The peer whose verified signature this call carried; null when it carried none (no PEER_SECRET, or an open method called unsigned). */
  getPeer(): string | null {
    return this.args[2] ?? null;
  }
}
