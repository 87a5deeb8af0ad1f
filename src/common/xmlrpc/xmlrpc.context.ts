import type { IncomingMessage } from 'node:http';
import { BaseRpcContext } from '@nestjs/microservices';

/** What a @MessagePattern handler can read with @Ctx() besides its params: the method and the HTTP request. */
export class XmlRpcContext extends BaseRpcContext<[method: string, request: IncomingMessage]> {
  getMethod(): string {
    return this.args[0];
  }

  getRequest(): IncomingMessage {
    return this.args[1];
  }
}
