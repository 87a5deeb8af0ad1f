import 'reflect-metadata';
import { PIPES_METADATA } from '@nestjs/common/constants';
import { MESSAGE_METADATA } from '@nestjs/websockets/constants';
import { CLIENT_REQUEST_TYPES } from '../../../common/protocol/client-wire';
import { RequestValidationPipe } from './dto/request-validation.pipe';
import { RoomsGateway } from './rooms.gateway';

describe(RoomsGateway.name, () => {
  const proto = RoomsGateway.prototype as unknown as Record<string, object>;
  const handlers = Object.getOwnPropertyNames(proto)
    .filter((name) => typeof proto[name] === 'function' && Reflect.getMetadata(MESSAGE_METADATA, proto[name]) !== undefined)
    .map((name) => ({ name, type: Reflect.getMetadata(MESSAGE_METADATA, proto[name]) as string, pipes: (Reflect.getMetadata(PIPES_METADATA, proto[name]) ?? []) as unknown[] }));

  it('handles every request type of ClientRequestMap once, and nothing else', () => {
    expect(handlers.map((h) => h.type).sort()).toEqual([...CLIENT_REQUEST_TYPES].sort());
  });

  it("validates each handler's data with its own type's DTO", () => {
    for (const h of handlers) {
      const validators = h.pipes.filter((p): p is RequestValidationPipe => p instanceof RequestValidationPipe);
      expect({ handler: h.name, validates: validators.map((p) => p.type) }).toEqual({ handler: h.name, validates: [h.type] });
    }
  });
});
