import { ValidateBy, type ValidationOptions } from 'class-validator';
import { isChatName, isChatText } from '../../../../common/protocol/text-limits';

/** A short name (username, room name): a string of 1..max code points without control characters. */
export function IsChatName(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isChatName', validator: { validate: (v: unknown) => isChatName(v, max) } }, options);
}

/** Free text (description) of at most max code points that XML can carry. */
export function IsChatText(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isChatText', validator: { validate: (v: unknown) => isChatText(v, max) } }, options);
}
