import { applyDecorators, UsePipes } from '@nestjs/common';
import { SubscribeMessage } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import type { ClientRequestMap, ClientRequestType } from '../../../common/protocol/client-wire';
import { RequestValidationPipe } from './dto/request-validation.pipe';

type RequestHandler<T extends ClientRequestType> = (socket: WebSocket, data: ClientRequestMap[T]) => void | Promise<void>;

/**
 * A gateway handler for one type of ClientRequestMap: routes frames of that type to it and validates
 * their `data` (the `@MessageBody()` parameter) with that type's DTO. The compiler refuses a handler
 * whose body parameter does not have the type's shape.
 */
export function ClientRequest<T extends ClientRequestType>(type: T) {
  const decorate = applyDecorators(SubscribeMessage(type), UsePipes(new RequestValidationPipe(type)));
  return <H extends RequestHandler<T>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<H>): void => {
    decorate(target, key, descriptor);
  };
}
