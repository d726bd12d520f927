// Public data types handed to applications. Plain objects except
// ChatMessage, which adds text().

export interface Identity {
  user: string;
  device: string;
  group?: string;
}

/** Where a message goes: one user or one group (exactly one of them). */
export interface Recipient {
  user?: string;
  group?: string;
}

export interface AckState {
  sent: boolean;
  received: boolean;
  read: boolean;
}

/** Which copy of a message (signal_type). */
export type Kind = 'sender' | 'device' | 'receiver' | 'unknown';

export type ActivityStatus =
  | 'none' | 'chatting' | 'recording' | 'played' | 'typing'
  | 'paused' | 'cancelled' | 'resume' | 'notification';

/** Signal.status numbers, index = wire value. */
export const ACTIVITY_STATUSES: readonly ActivityStatus[] = [
  'none', 'chatting', 'recording', 'played', 'typing', 'paused', 'cancelled', 'resume', 'notification',
];

/** One entry of this user's log (or a transient message, offset 0). */
export interface ChatMessage {
  id: string;
  /** Position in this user's log (signal_offset); 0 for transient. */
  offset: number;
  /** Position in the conversation (user_offset). */
  userOffset: number;
  kind: Kind;
  from: Identity;
  to: Recipient & { device?: string };
  /** Sender's clock, epoch ms. */
  timestamp: number;
  /** When the server accepted it, epoch ms. */
  serverTimestamp: number;
  payload: Uint8Array;
  /** The payload decoded as UTF-8. */
  text(): string;
  type: number;
  expiry: number;
  priority: number;
  encryptionType: string;
  encrypted: string;
  signature: string;
  transient: boolean;
  /** Arrived by a pull (sync) rather than a live push. */
  pulled: boolean;
  /** Ticks as stored when this copy was sent. */
  state: AckState;
  edited: boolean;
  recalled: boolean;
  /** Set on an edit or recall entry: the id of the message it changes. */
  replaces: string;
  recall: boolean;
}

/** A tick changed. See client/include/courier/client.h, struct Receipt. */
export interface Receipt {
  kind: Kind;
  id: string;
  offset: number;
  userOffset: number;
  state: AckState;
  from: Identity;
  to: Recipient & { device?: string };
  timestamp: number;
  recipients: number;
  receivedCount: number;
  readCount: number;
}

export interface Activity {
  from: Identity;
  to: Recipient & { device?: string };
  status: ActivityStatus;
  timestamp: number;
}

export interface SendOptions {
  /** Message id; default: 16 random hex characters. Retries reuse it. */
  id?: string;
  /** Application-defined type. */
  type?: number;
  /** Seconds the server may hold it undelivered; 0 = server default. */
  expiry?: number;
  /** 0 highest .. 15 lowest. */
  priority?: number;
  /** Fire-and-forget: never stored, online receivers only, never retried. */
  transient?: boolean;
  /** Sender clock, epoch ms; default: now. */
  timestamp?: number;
  /** Give up after this many ms without an answer (rejects with `timeout`); 0/absent: never. */
  timeout?: number;
  /** Edit or recall: the id of the message this one replaces. */
  replaces?: string;
  recall?: boolean;
}

export interface SendResult {
  id: string;
  /** This user's offset of the message (its DEVICE copy); 0 for transient. */
  offset: number;
  userOffset: number;
  serverTimestamp: number;
  /** How many times it was published. */
  attempts: number;
}

/** What markReceived / markRead need of a message. */
export interface MessageRef {
  offset: number;
  id?: string;
}
