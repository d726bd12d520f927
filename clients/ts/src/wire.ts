// The wire: topic names, enum numbers (docs/protocol.md) and conversions
// between the generated protobuf types and the public types. Pure; the
// decode functions throw on bytes that are not a valid message (callers
// turn that into a `malformed_publish` error event).
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  MessageSchema, SignalSchema, IdentitySchema, SignalAckStateSchema,
  type Identity as PbIdentity, type Message as PbMessage, type Signal as PbSignal,
  type SignalAckState as PbAckState, SignalKind, SignalRequest, SignalType,
} from '../gen/messaging_pb.js';
import {
  ACTIVITY_STATUSES, type AckState, type Activity, type ChatMessage, type Identity, type Kind,
  type Receipt, type Recipient,
} from './types.js';

export { MessageSchema, SignalSchema, IdentitySchema, SignalAckStateSchema as AckStateSchema };
export type { PbMessage, PbSignal };

// Signal.type, signal_type, signal_request: the schema's enums, as the
// int32 fields carry them.
export const REQUEST: number = SignalKind.REQUEST, RESPONSE: number = SignalKind.RESPONSE,
  ERROR: number = SignalKind.ERROR;
export const SENDER: number = SignalType.SENDER, DEVICE: number = SignalType.DEVICE,
  RECEIVER: number = SignalType.RECEIVER;
export const PULL: number = SignalRequest.PULL, PUSH: number = SignalRequest.PUSH;

export interface Topics {
  send: string;
  signal: string;
  inbox: string;
  events: string;
  deviceInbox: string;
  deviceEvents: string;
}

export function topicsFor(prefix: string, user: string, device: string): Topics {
  const base = `${prefix}/${user}`;
  const dev = `${base}/devices/${device}`;
  return {
    send: `${base}/send`, signal: `${base}/signal`, inbox: `${base}/inbox`, events: `${base}/events`,
    deviceInbox: `${dev}/inbox`, deviceEvents: `${dev}/events`,
  };
}

export function decodeMessage(bytes: Uint8Array): PbMessage {
  return fromBinary(MessageSchema, bytes);
}
export function decodeSignal(bytes: Uint8Array): PbSignal {
  return fromBinary(SignalSchema, bytes);
}
export function encodeMessage(m: PbMessage): Uint8Array {
  return toBinary(MessageSchema, m);
}
export function encodeSignal(s: PbSignal): Uint8Array {
  return toBinary(SignalSchema, s);
}
export function newSignal(init: Parameters<typeof create<typeof SignalSchema>>[1]): PbSignal {
  return create(SignalSchema, init);
}
export function newMessage(init: Parameters<typeof create<typeof MessageSchema>>[1]): PbMessage {
  return create(MessageSchema, init);
}

export function kindOf(signalType: number): Kind {
  switch (signalType) {
    case SENDER: return 'sender';
    case DEVICE: return 'device';
    case RECEIVER: return 'receiver';
    default: return 'unknown';
  }
}

export function ackState(a: PbAckState | undefined): AckState {
  return { sent: !!a?.send, received: !!(a?.received || a?.read), read: !!a?.read };
}

export function identity(i: PbIdentity | undefined): Identity {
  const out: Identity = { user: i?.user ?? '', device: i?.device ?? '' };
  if (i?.group) out.group = i.group;
  return out;
}

export function recipient(i: PbIdentity | undefined): Recipient & { device?: string } {
  const out: Recipient & { device?: string } = {};
  if (i?.user) out.user = i.user;
  if (i?.device) out.device = i.device;
  if (i?.group) out.group = i.group;
  return out;
}

const utf8 = new TextDecoder();

export function toChatMessage(m: PbMessage, pulled: boolean): ChatMessage {
  const payload = m.payload;
  return {
    id: m.id,
    offset: m.signalOffset,
    userOffset: m.userOffset,
    kind: kindOf(m.signalType),
    from: identity(m.from),
    to: recipient(m.to),
    timestamp: Number(m.timestamp),
    serverTimestamp: Number(m.serverTimestamp),
    payload,
    text: () => utf8.decode(payload),
    type: m.type,
    expiry: m.expiry,
    priority: m.priority,
    encryptionType: m.encryptionType,
    encrypted: m.encrypted,
    signature: m.signature,
    transient: m.transient,
    pulled,
    state: ackState(m.signalAckState),
    edited: m.edited,
    recalled: m.recalled,
    replaces: m.replaces,
    recall: m.recall,
  };
}

export function toReceipt(s: PbSignal): Receipt {
  return {
    kind: kindOf(s.signalType),
    id: s.id,
    offset: s.signalOffset,
    userOffset: s.userOffset,
    state: ackState(s.signalAckState),
    from: identity(s.from),
    to: recipient(s.to),
    timestamp: Number(s.timestamp),
    recipients: s.recipients,
    receivedCount: s.receivedCount,
    readCount: s.readCount,
  };
}

export function toActivity(s: PbSignal): Activity {
  return {
    from: identity(s.from),
    to: recipient(s.to),
    status: ACTIVITY_STATUSES[s.status] ?? 'none',
    timestamp: Number(s.timestamp),
  };
}
