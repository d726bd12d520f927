// One signed-in chat: connects the Courier client's events to the page's
// model (Conversations) and view, and the page's forms to the client.
import { Client, CourierError } from '@courier/client';
import type { ChatMessage as Entry, Receipt, Activity } from '@courier/client';
import { Conversations, conversationKey, type ChatMessage, type Conversation, type Peer } from './conversations';
import { MessageList, renderConversationList } from './view';
import { TypingSender, TypingShown } from './typing';
import { connectionWords, explain } from './words';
import type { Identity } from './identity';

function newId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

function $(id: string): HTMLElement {
  return document.getElementById(id)!;
}

export class Chat {
  readonly client: Client;
  private model = new Conversations();
  private list = new MessageList($('messages') as HTMLOListElement);
  private open: Conversation | undefined;
  private typingOut: TypingSender | undefined;
  private typingIn = new TypingShown((key) => key === this.open?.key && this.showTyping());

  constructor(private me: Identity, password: string | undefined) {
    this.client = new Client({
      url: me.url,
      user: me.user,
      device: me.device,
      password: password || undefined,
      // The page keeps no history across loads: each load syncs the user's
      // log from offset 1, so every tick is the server's current one
      // (README.md, "History and reloads").
      startFrom: 'beginning',
    });
    this.client.on('message', (m) => this.onMessage(m));
    this.client.on('receipt', (r) => this.onReceipt(r));
    this.client.on('activity', (a) => this.onActivity(a));
    this.client.on('connection', (e) => this.onConnection(e.connected, e.error));
    this.client.on('synced', () => {
      document.body.dataset.synced = 'true';
    });
    this.client.on('error', (e) => this.showError(explain(e.code, e.detail)));
    document.addEventListener('visibilitychange', this.onVisible);
  }

  async start(): Promise<void> {
    this.onConnection(false, undefined, 'connecting…');
    await this.client.connect();
  }

  async stop(): Promise<void> {
    document.removeEventListener('visibilitychange', this.onVisible);
    this.typingOut?.stop();
    await this.client.close();
  }

  openPeer(peer: Peer): void {
    this.typingOut?.stop();
    this.open = this.model.get(peer);
    this.typingOut = new TypingSender((status) => {
      try {
        this.client.setActivity(this.target(peer), status);
      } catch {
        // Typing is best effort: never an error for the user.
      }
    });
    $('title').textContent = peer.kind === 'group' ? `# ${peer.name}` : peer.name;
    $('compose').hidden = false;
    $('chat-error').textContent = '';
    this.markOpenRead();
    this.render();
    (document.querySelector('#compose input') as HTMLInputElement).focus();
  }

  /** Input events of the message field. */
  typed(text: string): void {
    this.typingOut?.input(text.trim() === '');
  }

  async send(text: string): Promise<void> {
    const conv = this.open;
    if (!conv || !text.trim()) return;
    this.typingOut?.stop();
    // The page picks the id, so the pending row and the entry the library
    // builds from the ack are one message.
    const id = newId();
    const key = `${this.me.user}/${id}`;
    const msg: ChatMessage = {
      key, id, offset: 0, userOffset: 0,
      from: { user: this.me.user, device: this.me.device },
      text, mine: true, timestamp: Date.now(),
      received: false, read: false, recipients: 0, receivedCount: 0, readCount: 0,
      transient: false, edited: false, recalled: false,
    };
    this.model.add(conv.peer, msg);
    this.render();
    try {
      const r = await this.client.send(this.target(conv.peer), text, { id });
      this.model.confirm(key, r.offset, r.userOffset, r.serverTimestamp);
    } catch (e) {
      const err = e instanceof CourierError ? explain(e.code, e.detail) : String(e);
      this.model.fail(key, err);
      this.showError(`Not sent: ${err}`);
    }
    this.render();
  }

  private target(peer: Peer): { user: string } | { group: string } {
    return peer.kind === 'group' ? { group: peer.name } : { user: peer.name };
  }

  private peerOf(from: { user: string }, to: { user?: string; group?: string }): Peer {
    if (to.group) return { kind: 'group', name: to.group };
    return { kind: 'user', name: from.user === this.me.user ? to.user ?? from.user : from.user };
  }

  private onMessage(m: Entry): void {
    if (m.transient) return; // live-only extras (no offsets, no ticks): not shown
    const mine = m.from.user === this.me.user;
    if (m.replaces) {
      this.applyReplacement(m);
    } else {
      const peer = this.peerOf(m.from, m.to);
      const msg: ChatMessage = {
        key: `${m.from.user}/${m.id}`, id: m.id, offset: m.offset, userOffset: m.userOffset,
        from: m.from, text: m.text(), mine, timestamp: m.serverTimestamp || m.timestamp,
        received: m.state.received, read: m.state.read,
        recipients: 0, receivedCount: 0, readCount: 0,
        transient: false, edited: m.edited, recalled: m.recalled, raw: m,
      };
      const added = this.model.add(peer, msg);
      if (added && !mine) {
        const conv = this.model.get(peer);
        if (!m.state.read) conv.unread++;
        if (!this.open) this.openPeer(peer);
      }
    }
    if (!mine) {
      if (!m.state.received) this.mark('received', m);
      if (this.open && this.open.key === conversationKey(this.peerOf(m.from, m.to))) this.markOpenRead();
      // A message ends its sender's typing.
      this.typingIn.set(conversationKey(this.peerOf(m.from, m.to)), m.from.user, false);
    }
    this.render();
  }

  private applyReplacement(m: Entry): void {
    const original = this.model.find(`${m.from.user}/${m.replaces}`);
    if (!original) return;
    if (m.recall) {
      original.recalled = true;
      original.text = '';
    } else {
      original.edited = true;
      original.text = m.text();
    }
  }

  private onReceipt(r: Receipt): void {
    // A receipt names a message by its offset in this user's log; the id
    // helps while a send still waits for its ack.
    const key = r.kind === 'receiver' ? `${this.me.user}/${r.id}` : undefined;
    // In a group, a member's receipt carries that member's state; the
    // message's own ticks follow the counts over all members.
    const member = r.kind === 'receiver' && r.recipients > 0;
    this.model.update(r.offset, key, {
      received: !member && r.state.received,
      read: !member && r.state.read,
      recipients: r.recipients,
      receivedCount: r.receivedCount,
      readCount: r.readCount,
    });
    if (r.kind === 'device') this.recountUnread();
    this.render();
  }

  private onActivity(a: Activity): void {
    if (a.from.user === this.me.user) return;
    const peer: Peer = a.to.group ? { kind: 'group', name: a.to.group } : { kind: 'user', name: a.from.user };
    this.typingIn.set(conversationKey(peer), a.from.user, a.status === 'typing' || a.status === 'recording');
  }

  private onConnection(connected: boolean, error?: string, words?: string): void {
    const el = $('connection');
    el.dataset.connected = String(connected);
    el.textContent = words ?? connectionWords(connected, error);
    if (connected) $('chat-error').textContent = '';
  }

  private onVisible = (): void => {
    if (document.visibilityState === 'visible') {
      this.markOpenRead();
      this.render();
    }
  };

  /** Marks read what the open conversation shows, when the tab is seen. */
  private markOpenRead(): void {
    if (!this.open || document.visibilityState !== 'visible') return;
    for (const msg of this.open.messages) {
      if (!msg.mine && !msg.read && msg.raw) {
        msg.read = msg.received = true;
        this.mark('read', msg.raw as Entry);
      }
    }
    this.open.unread = 0;
  }

  private recountUnread(): void {
    for (const c of this.model.list()) c.unread = c.messages.filter((m) => !m.mine && !m.read).length;
  }

  private mark(what: 'received' | 'read', m: Entry): void {
    try {
      if (what === 'read') this.client.markRead(m);
      else this.client.markReceived(m);
    } catch (e) {
      this.showError(e instanceof CourierError ? explain(e.code, e.detail) : String(e));
    }
  }

  private showTyping(): void {
    $('typing').textContent = this.open ? this.typingIn.line(this.open.key) : '';
  }

  private showError(text: string): void {
    $('chat-error').textContent = text;
  }

  private render(): void {
    this.list.render(this.open);
    renderConversationList($('conversations') as HTMLUListElement, this.model.list(), this.open?.key, (c) =>
      this.openPeer(c.peer),
    );
    this.showTyping();
    const unread = this.model.list().reduce((n, c) => n + c.unread, 0);
    document.title = unread ? `(${unread}) Courier` : 'Courier';
    const box = $('messages');
    box.scrollTop = box.scrollHeight;
  }
}
