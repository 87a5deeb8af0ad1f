import { RpcException } from '@nestjs/microservices';
import { XmlRpcFaultCode } from './xmlrpc-fault-code';

// The codes live apart from the Nest exception so the Nest-free codec (and src/healthcheck.ts) can use them.
export { XmlRpcFaultCode };

/**
 * A fault answered by (or to be answered to) an XML-RPC peer.
 *
 * It is an RpcException whose getError() is the fault itself, so that when a
 * @MessagePattern handler throws it, Nest's RPC exception filter passes it through
 * unchanged and the transport can answer with this exact code.
 */
export class XmlRpcFault extends RpcException {
  override readonly name = 'XmlRpcFault';

  constructor(
    readonly code: number,
    readonly faultString: string,
  ) {
    super(faultString);
  }

  override getError(): object {
    return this;
  }
}
