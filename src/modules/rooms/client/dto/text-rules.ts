import { ValidateBy, type ValidationOptions } from 'class-validator';
import { codePointCount, nameProblem } from '../../../../common/protocol/chat-names';

/** Characters XML 1.0 cannot carry: peers could not relay a message holding them. */
const XML_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL = /[\u0000-\u001F\u007F]/;

/** Length in Unicode code points (what Python's len counts), not UTF-16 units. */
export const codePoints = codePointCount;

export const hasXmlIllegalChars = (s: string): boolean => XML_ILLEGAL.test(s);

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
  return ValidateBy(
    {
      name: 'isChatName',
      validator: {
        validate: (v: unknown) =>
          typeof v === 'string' && v.trim().length > 0 && codePoints(v) <= max && !CONTROL.test(v) && !hasXmlIllegalChars(v),
      },
    },
    options,
  );
}

/** Free text (description) of at most max code points that XML can carry. */
export function IsChatText(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isChatText', validator: { validate: (v: unknown) => typeof v === 'string' && codePoints(v) <= max && !hasXmlIllegalChars(v) } },
    options,
  );
}

export const MAX_CONTENT = 5000;

/** The content rules of send_message, in the reference's order; null when the content is fine. */
export function contentProblem(content: unknown): string | null {
  if (content === undefined || content === null || content === '') return 'Message content cannot be empty';
  if (typeof content !== 'string') return 'Message content must be a string';
  if (content.length > MAX_CONTENT && codePoints(content) > MAX_CONTENT) return `Message content too long (max ${MAX_CONTENT} characters)`;
  if (hasXmlIllegalChars(content)) return 'Message content contains control characters that cannot be delivered';
  return null;
}
