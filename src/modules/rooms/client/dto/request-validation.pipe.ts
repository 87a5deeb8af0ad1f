import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { ChatError, type ChatErrorCode } from '../../../../common/errors/chat-error';
import { normalizeName } from '../../../../common/protocol/chat-names';
import type { ClientRequestMap, ClientRequestType } from '../../../../common/protocol/client-wire';
import { NoParams, REQUEST_DTOS } from './requests';

/** Identity fields are checked before everything else, as the reference does. */
const IDENTITY_FIELDS = new Set(['room_id', 'username', 'room_name', 'creator_id']);
/** Names people see: services get their normal form, so `alice ` and full-width `ａｌｉｃｅ` are `alice`. */
const NAME_FIELDS = ['username', 'room_name', 'creator_id', 'member', 'with'] as const;
const byCheckOrder = (a: ValidationError, b: ValidationError) =>
  Number(!IDENTITY_FIELDS.has(a.property)) - Number(!IDENTITY_FIELDS.has(b.property));

/**
 * Validates a request's `data` against the DTO REQUEST_DTOS names for its type and turns the first
 * broken rule into the ChatError (code + sentence) that rule carries, so the gateway's filter can
 * answer in the request's own error frame. One instance per request type (`@ClientRequest(type)`).
 */
export class RequestValidationPipe<T extends ClientRequestType = ClientRequestType> implements PipeTransform<unknown, unknown> {
  constructor(readonly type: T) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body') return value;
    return this.validate(value);
  }

  /** The request's DTO, or the ChatError of the first rule its data breaks. */
  validate(value: unknown): ClientRequestMap[T] {
    const dto = REQUEST_DTOS[this.type];
    if (dto === NoParams) return new dto(); // no parameters: whatever data holds is ignored
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ChatError('INVALID_REQUEST', 'Request data must be a JSON object');
    }
    const instance = toDto(dto, value as Record<string, unknown>);
    const errors = validateSync(instance, { stopAtFirstError: true, forbidUnknownValues: false });
    if (errors.length > 0) throw this.toChatError(errors.sort(byCheckOrder)[0]);
    const fields = instance as Record<string, unknown>;
    for (const field of NAME_FIELDS) if (typeof fields[field] === 'string') fields[field] = normalizeName(fields[field]);
    return instance;
  }

  private toChatError(error: ValidationError): ChatError {
    const rule = Object.values(error.constraints ?? {})[0] ?? '';
    const split = rule.indexOf('|');
    if (split < 0) return new ChatError('INVALID_REQUEST', `Invalid ${error.property}`);
    return new ChatError(rule.slice(0, split) as ChatErrorCode, rule.slice(split + 1));
  }
}

const declaredFields = new Map<Function, string[]>();

/**
 * The DTO with the fields it declares, copied as they are (the DTOs are flat: each field is a value
 * the validators type-check). Nothing else the client sent is kept or walked into: class-transformer
 * recursed into every nested value, so thousands of nested arrays overflowed the stack and a nested
 * "constructor" key made it throw, both answered as internal errors.
 */
function toDto<D extends object>(dto: new () => D, value: Record<string, unknown>): D {
  let fields = declaredFields.get(dto);
  if (!fields) {
    fields = [...new Set(getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false).map((m) => m.propertyName))];
    declaredFields.set(dto, fields);
  }
  const instance = new dto();
  for (const field of fields) if (Object.hasOwn(value, field)) (instance as Record<string, unknown>)[field] = value[field];
  return instance;
}
