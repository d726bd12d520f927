// What the page knows about its chats, independent of the DOM: every entry of
// this user's log once (by offset), grouped by conversation and ordered the
// way the server orders a chat (user_offset), plus sends still waiting for
// their ack.

export type Tick = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface Peer {
  kind: 'user' | 'group';
  name: string;
}

export interface ChatMessage {
  key: string; // `${from.user}/${id}`: ids are unique per sender user
  id: string;
  offset: number; // in this user's log; 0 while pending or transient
  userOffset: number; // in the conversation; orders the chat
  from: { user: string; device?: string };
  text: string;
  mine: boolean;
  timestamp: number;
  received: boolean;
  read: boolean;
  recipients: number; // group messages: members the message went to
  receivedCount: number;
  readCount: number;
  transient: boolean;
  edited: boolean;
  recalled: boolean;
  error?: string; // a send that failed for good, in plain words
  raw?: unknown; // the library's message, for markReceived / markRead
}

export interface Conversation {
  key: string;
  peer: Peer;
  messages: ChatMessage[];
  unread: number;
}

export function conversationKey(peer: Peer): string {
  return `${peer.kind}:${peer.name}`;
}

export function tickOf(m: ChatMessage): Tick {
  if (m.error) return 'failed';
  if (m.offset === 0 && !m.transient) return 'pending';
  if (m.recipients > 0) {
    // A group message: the sender's copy counts every member.
    if (m.read || m.readCount >= m.recipients) return 'read';
    if (m.received || m.receivedCount >= m.recipients) return 'delivered';
    return 'sent';
  }
  if (m.read) return 'read';
  if (m.received) return 'delivered';
  return 'sent';
}

export interface StateUpdate {
  received?: boolean;
  read?: boolean;
  recipients?: number;
  receivedCount?: number;
  readCount?: number;
}

export class Conversations {
  private byKey = new Map<string, Conversation>();
  private byOffset = new Map<number, { conv: Conversation; msg: ChatMessage }>();
  private byMessageKey = new Map<string, { conv: Conversation; msg: ChatMessage }>();
  // Receipts that arrived before the message they name (a race with the ack).
  private early = new Map<number, StateUpdate>();

  list(): Conversation[] {
    return [...this.byKey.values()];
  }

  get(peer: Peer): Conversation {
    const key = conversationKey(peer);
    let conv = this.byKey.get(key);
    if (!conv) {
      conv = { key, peer, messages: [], unread: 0 };
      this.byKey.set(key, conv);
    }
    return conv;
  }

  find(key: string): ChatMessage | undefined {
    return this.byMessageKey.get(key)?.msg;
  }

  /** Adds a message; returns false when this offset or key is already held. */
  add(peer: Peer, msg: ChatMessage): boolean {
    if (msg.offset && this.byOffset.has(msg.offset)) return false;
    const held = this.byMessageKey.get(msg.key);
    if (held) {
      // A send of this page, now with its entry (built from the ack).
      if (msg.offset && !held.msg.offset) this.place(held.conv, held.msg, msg.offset, msg.userOffset);
      return false;
    }
    const conv = this.get(peer);
    conv.messages.push(msg);
    this.byMessageKey.set(msg.key, { conv, msg });
    if (msg.offset) this.place(conv, msg, msg.offset, msg.userOffset);
    return true;
  }

  /** A send got its ack: its offsets, unless its entry already brought them. */
  confirm(key: string, offset: number, userOffset: number, timestamp: number): void {
    const held = this.byMessageKey.get(key);
    if (!held || held.msg.offset || !offset || this.byOffset.has(offset)) return;
    if (timestamp) held.msg.timestamp = timestamp;
    this.place(held.conv, held.msg, offset, userOffset);
  }

  fail(key: string, error: string): ChatMessage | undefined {
    const msg = this.byMessageKey.get(key)?.msg;
    if (msg) msg.error = error;
    return msg;
  }

  /** Merges a receipt; flags only ever go up. Returns the message it changed. */
  update(offset: number, key: string | undefined, state: StateUpdate): ChatMessage | undefined {
    const held = (offset && this.byOffset.get(offset)) || (key ? this.byMessageKey.get(key) : undefined);
    if (!held) {
      if (offset) this.early.set(offset, { ...this.early.get(offset), ...state });
      return undefined;
    }
    apply(held.msg, state);
    return held.msg;
  }

  private place(conv: Conversation, msg: ChatMessage, offset: number, userOffset: number): void {
    msg.offset = offset;
    msg.userOffset = userOffset;
    if (offset) {
      this.byOffset.set(offset, { conv, msg });
      const early = this.early.get(offset);
      if (early) {
        apply(msg, early);
        this.early.delete(offset);
      }
    }
    // Stored messages by user_offset; pending ones after them, as sent.
    conv.messages.sort((a, b) => (a.userOffset || Infinity) - (b.userOffset || Infinity));
  }
}

function apply(msg: ChatMessage, s: StateUpdate): void {
  if (s.received) msg.received = true;
  if (s.read) msg.received = msg.read = true;
  if (s.recipients) msg.recipients = Math.max(msg.recipients, s.recipients);
  if (s.receivedCount) msg.receivedCount = Math.max(msg.receivedCount, s.receivedCount);
  if (s.readCount) msg.readCount = Math.max(msg.readCount, s.readCount);
}
