// The DOM side of the chat: the conversation list and the open conversation's
// messages, with ticks in data-state so tests and CSS can read them.
import { tickOf, type ChatMessage, type Conversation, type Tick } from './conversations';
import { timeOf } from './words';

const tickText: Record<Tick, string> = {
  pending: '🕓',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
  failed: '!',
};
const tickTitle: Record<Tick, string> = {
  pending: 'sending',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'not sent',
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class MessageList {
  private rows = new WeakMap<ChatMessage, HTMLLIElement>();

  constructor(private list: HTMLOListElement) {}

  /** Brings the list in line with conv's messages, touching only what changed. */
  render(conv: Conversation | undefined): void {
    if (!conv) {
      this.list.replaceChildren();
      return;
    }
    const group = conv.peer.kind === 'group';
    let at: ChildNode | null = this.list.firstChild;
    for (const msg of conv.messages) {
      const row = this.row(msg, group);
      if (row !== at) this.list.insertBefore(row, at);
      at = row.nextSibling;
    }
    while (at) {
      const next = at.nextSibling;
      at.remove();
      at = next;
    }
  }

  private row(msg: ChatMessage, group: boolean): HTMLLIElement {
    let row = this.rows.get(msg);
    if (!row) {
      row = el('li', msg.mine ? 'message mine' : 'message theirs');
      if (group && !msg.mine) row.append(el('span', 'author', msg.from.user));
      row.append(el('span', 'text'), el('span', 'meta'));
      this.rows.set(msg, row);
    }
    row.dataset.key = msg.key;
    row.dataset.id = msg.id;
    row.dataset.offset = String(msg.offset);
    row.dataset.userOffset = String(msg.userOffset);
    const text = row.querySelector('.text')!;
    text.textContent = msg.recalled ? 'message taken back' : msg.text;
    row.classList.toggle('recalled', msg.recalled);
    const meta = row.querySelector('.meta')!;
    const parts: (string | Node)[] = [];
    if (msg.edited && !msg.recalled) parts.push(el('span', 'edited', 'edited'));
    parts.push(el('time', undefined, timeOf(msg.timestamp)));
    if (msg.mine) {
      const tick = tickOf(msg);
      row.dataset.state = tick;
      const t = el('span', `ticks ${tick}`, tickText[tick]);
      t.title = msg.error ? `not sent: ${msg.error}` : tickTitle[tick];
      if (group && msg.recipients > 0) t.title += ` (read by ${msg.readCount} of ${msg.recipients})`;
      parts.push(t);
    }
    meta.replaceChildren(...parts);
    if (msg.error) row.title = `not sent: ${msg.error}`;
    return row;
  }
}

export function renderConversationList(
  ul: HTMLUListElement,
  convs: Conversation[],
  open: string | undefined,
  onOpen: (c: Conversation) => void,
): void {
  ul.replaceChildren(
    ...convs.map((c) => {
      const li = el('li');
      const b = el('button', c.key === open ? 'open' : undefined);
      b.type = 'button';
      b.dataset.conversation = c.key;
      b.textContent = c.peer.kind === 'group' ? `# ${c.peer.name}` : c.peer.name;
      if (c.unread) b.append(el('span', 'unread', String(c.unread)));
      b.onclick = () => onOpen(c);
      li.append(b);
      return li;
    }),
  );
}
