import type { Logger } from '@nestjs/common';
import { ChatError } from '../../../common/errors/chat-error';
import { nameProblem } from '../../../common/protocol/chat-names';
import { LIMITS } from '../../../common/protocol/text-limits';

/**
 * What a peer's request to a room's host is refused with: a ChatError as thrown (its code goes
 * back as the result's error_code), anything else logged here and answered INTERNAL_ERROR.
 */
export function peerRefusal(e: unknown, logger: Logger): ChatError {
  if (e instanceof ChatError) return e;
  logger.error(`Peer request failed: ${(e as Error)?.stack ?? e}`);
  return new ChatError('INTERNAL_ERROR', (e as Error)?.message ?? 'Internal error');
}

/** A peer's names follow the clients' rules (the member node checked them; a stranger may not have). */
export function checkPeerName(name: string, field: string): void {
  const problem = nameProblem(name, LIMITS.username, field);
  if (problem) throw new ChatError('INVALID_REQUEST', problem);
}
