/**
 * Comments exactly once. A comment cannot be edited or deleted on Graph, so a duplicate is permanent, and
 * a record of the message id alone cannot prove a comment was not posted (a crash, or an answer lost,
 * between the POST and the record). So each inbound comment carries a marker derived from its sender and
 * message id (the idempotency key), and before posting the relay reads the incident's comments: a marker
 * already there means the comment was posted by an earlier attempt, and it is not posted again.
 */
import crypto from 'node:crypto';

/** `[relay <sender>:<16 hex>]`: short, the same for every attempt of one message, never a secret. */
export function commentMarker(sender: string, webhookId: string): string {
  const digest = crypto.createHash('sha256').update(`${sender}\n${webhookId}`).digest('hex').slice(0, 16);
  return `[relay ${sender}:${digest}]`;
}

export function withMarker(comment: string, marker: string): string {
  return `${comment}\n\n${marker}`;
}

/** Whether an incident as either API returned it holds a comment with the marker. */
export function hasMarkedComment(raw: Record<string, unknown>, marker: string): boolean {
  const comments = Array.isArray(raw.comments) ? (raw.comments as Record<string, unknown>[]) : [];
  return comments.some((c) => typeof c?.comment === 'string' && c.comment.includes(marker));
}
