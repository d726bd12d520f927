// Argument checks done before anything is published. Each throws a
// CourierArgumentError whose code is the server's code for the same mistake
// (docs/protocol.md, "Errors"), or `invalid_argument` for what the server
// cannot see (a non-integer number, an unknown status name).
import { CourierArgumentError } from './errors.js';
import type { Recipient, SendOptions } from './types.js';

export interface Limits {
  maxPayloadBytes: number;  // plugin_opt_max_payload_bytes, 65536
  maxIdBytes: number;       // plugin_opt_max_id_bytes, 128
  maxNameBytes: number;     // plugin_opt_max_name_bytes, 128
}

export const DEFAULT_LIMITS: Limits = { maxPayloadBytes: 65536, maxIdBytes: 128, maxNameBytes: 128 };

const utf8 = new TextEncoder();

export function byteLength(s: string): number {
  return utf8.encode(s).length;
}

/** A user, device or group name usable as one topic level. */
export function isValidName(s: unknown, limits: Limits = DEFAULT_LIMITS): s is string {
  return typeof s === 'string' && s.length > 0 && !/[/+#\0]/.test(s) && byteLength(s) <= limits.maxNameBytes;
}

export function checkRecipient(to: Recipient | undefined, limits: Limits): void {
  if (!to || typeof to !== 'object') throw new CourierArgumentError('missing_recipient', 'to must be {user} or {group}');
  const hasUser = to.user !== undefined && to.user !== '';
  const hasGroup = to.group !== undefined && to.group !== '';
  if (!hasUser && !hasGroup) throw new CourierArgumentError('missing_recipient', 'to.user and to.group are empty');
  if (hasUser && hasGroup) throw new CourierArgumentError('invalid_recipient', 'to has both user and group');
  const name = hasUser ? to.user : to.group;
  if (!isValidName(name, limits)) {
    throw new CourierArgumentError('invalid_recipient', `${hasUser ? 'user' : 'group'} ${JSON.stringify(name)} cannot be a topic level`);
  }
}

function checkUint(name: string, v: number | undefined, max = 0xffffffff): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < 0 || v > max) throw new CourierArgumentError('invalid_argument', `${name} must be an integer in 0..${max}`);
}

export function checkId(id: string, limits: Limits, what = 'id'): void {
  if (typeof id !== 'string' || id.length === 0) throw new CourierArgumentError('missing_id', `${what} is empty`);
  if (byteLength(id) > limits.maxIdBytes) throw new CourierArgumentError('id_too_long', `${what} is longer than ${limits.maxIdBytes} bytes`);
}

/** Checks a send; returns the payload as bytes. */
export function checkSend(to: Recipient, payload: string | Uint8Array, opts: SendOptions, limits: Limits): Uint8Array {
  checkRecipient(to, limits);
  let bytes: Uint8Array;
  if (typeof payload === 'string') bytes = utf8.encode(payload);
  else if (payload instanceof Uint8Array) bytes = payload;
  else throw new CourierArgumentError('invalid_argument', 'payload must be a string or a Uint8Array');
  if (bytes.length > limits.maxPayloadBytes) {
    throw new CourierArgumentError('payload_too_large', `payload is ${bytes.length} bytes, more than ${limits.maxPayloadBytes}`);
  }
  if (opts.id !== undefined) checkId(opts.id, limits);
  checkUint('type', opts.type);
  checkUint('expiry', opts.expiry);
  if (opts.priority !== undefined && (!Number.isInteger(opts.priority) || opts.priority < 0 || opts.priority > 15)) {
    throw new CourierArgumentError('invalid_priority', 'priority must be an integer in 0..15');
  }
  if (opts.timestamp !== undefined && (!Number.isSafeInteger(opts.timestamp) || opts.timestamp < 0)) {
    throw new CourierArgumentError('invalid_timestamp', 'timestamp must be a non-negative integer (epoch ms)');
  }
  if (opts.timeout !== undefined && (!Number.isFinite(opts.timeout) || opts.timeout < 0)) {
    throw new CourierArgumentError('invalid_argument', 'timeout must be a non-negative number of ms');
  }
  if (opts.replaces !== undefined && opts.replaces !== '') {
    checkId(opts.replaces, limits, 'replaces');
    if (opts.replaces === opts.id) throw new CourierArgumentError('invalid_edit', 'a message cannot replace itself');
    if (opts.transient) throw new CourierArgumentError('invalid_edit', 'an edit cannot be transient');
  }
  if (opts.recall) {
    if (!opts.replaces) throw new CourierArgumentError('invalid_edit', 'recall needs replaces');
    if (bytes.length > 0) throw new CourierArgumentError('recall_has_content', 'a recall carries no payload');
  }
  return bytes;
}
