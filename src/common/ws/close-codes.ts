/** A client that does not read what is sent to it (4000-4999: application codes). */
export const CLOSE_TOO_SLOW = 4008;

/** The close reason: why, and how much was waiting. */
export const tooSlowReason = (bufferedBytes: number) => `client too slow: ${bufferedBytes} bytes buffered`;
