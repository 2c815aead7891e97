/** What to do with a leader message given its term and the highest term seen. */
export type TermDecision = 'accept' | 'raise' | 'refuse';

/**
 * Term fencing (pure): a message from an older term comes from a deposed leader and is
 * refused; a newer term must be persisted ('raise') before the message is acted on.
 */
export function decideTerm(highestSeen: number, messageTerm: number): TermDecision {
  if (messageTerm < highestSeen) return 'refuse';
  return messageTerm > highestSeen ? 'raise' : 'accept';
}
