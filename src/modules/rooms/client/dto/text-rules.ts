import { ValidateBy, type ValidationOptions } from 'class-validator';
import { nameProblem } from '../../../../common/protocol/chat-names';
import { isChatName, isChatText } from '../../../../common/protocol/text-limits';

/**
 * A name people see and compare (username, creator_id, room_name): the shared name rules
 * (common/protocol/chat-names.ts); the refusal says which rule, as INVALID_REQUEST. The pipe
 * hands the service the name's normal form.
 */
export function IsDisplayName(max: number, field: string): PropertyDecorator {
  return ValidateBy({
    name: 'isDisplayName',
    validator: {
      validate: (v: unknown) => nameProblem(v, max, field) === null,
      defaultMessage: (args) => `INVALID_REQUEST|${nameProblem(args?.value, max, field)}`,
    },
  });
}

/** An identifier (room id, client message id): a string of 1..max code points without control characters. */
export function IsChatName(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isChatName', validator: { validate: (v: unknown) => isChatName(v, max) } }, options);
}

/** Free text (description) of at most max code points that XML can carry. */
export function IsChatText(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isChatText', validator: { validate: (v: unknown) => isChatText(v, max) } }, options);
}
