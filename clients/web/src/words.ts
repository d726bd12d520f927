// Plain words for what the server or the connection says (codes: docs/protocol.md, Errors).

const codes: Record<string, string> = {
  bad_payload: 'the server could not read the message',
  missing_id: 'the message had no id',
  id_too_long: 'the message id is too long',
  missing_recipient: 'there is no one to send it to',
  invalid_recipient: 'that name cannot be used (no /, + or #)',
  payload_too_large: 'the message is too long',
  id_conflict: 'another message already used this id',
  unknown_offset: 'the server does not know that message',
  bad_signal: 'the server could not read the request',
  invalid_status: 'unknown typing status',
  invalid_timestamp: "this device's clock is too far off",
  not_authorized: 'you may not send as this user',
  unknown_group: 'there is no such group',
  not_member: 'you are not a member of this group',
  invalid_priority: 'invalid priority',
  unknown_original: 'the original message is gone',
  edit_window_closed: 'it is too late to change that message',
  already_recalled: 'that message was taken back',
  edit_changes_recipient: 'an edit cannot change who gets the message',
  recall_has_content: 'a recall cannot carry text',
  invalid_edit: 'that edit is not valid',
  expired: 'it expired before it was delivered',
  internal: 'the server failed (a bug; it logged it)',
  store_full: 'the server is out of space; try again later',
  store_unavailable: 'the server could not store it; try again later',
  rate_limited: 'you are sending too fast; slow down',
  quota_exceeded: 'the receiver has too many unread messages; try later',
  refused: 'the broker refused it (access control)',
  timeout: 'no answer from the server in time',
  closed: 'the connection closed before the server answered',
  not_connected: 'not connected',
  connection_lost: 'the connection was lost',
  malformed_publish: 'the server sent something this page cannot read',
  cursor_store: 'the saved position of this device is unusable',
  cursor_ahead: 'the server has fewer messages than this device saw (was it reset?)',
};

/** "not sent: you are not a member of this group (not_member)". */
export function explain(code: string | undefined, detail?: string): string {
  if (!code) return detail || 'something went wrong';
  const words = codes[code];
  return words ? `${words} (${code})` : `${detail || code}${detail && !detail.includes(code) ? ` (${code})` : ''}`;
}

export function connectionWords(connected: boolean, error?: string): string {
  if (connected) return 'connected';
  return error ? `connection lost (${error}) — reconnecting…` : 'connection lost — reconnecting…';
}

export function timeOf(ms: number): string {
  if (!ms) return '';
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
