// Typing, both ways. Outgoing: one 'typing' per few seconds while keys are
// pressed, 'paused' once they stop, so a chat costs a handful of signals and
// not one per key. Incoming: "bob is typing…" until he pauses, sends, or goes
// quiet (a lost 'paused' must not leave the line forever).

const RESEND_MS = 3000;
const PAUSE_MS = 4000;
const SHOWN_MS = 6000;

export class TypingSender {
  private lastSent = 0;
  private pauseTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private send: (status: 'typing' | 'paused') => void) {}

  /** Call on each input event. */
  input(empty: boolean): void {
    clearTimeout(this.pauseTimer);
    if (empty) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (now - this.lastSent >= RESEND_MS) {
      this.lastSent = now;
      this.send('typing');
    }
    this.pauseTimer = setTimeout(() => this.stop(), PAUSE_MS);
  }

  /** Call on send, or when leaving the conversation. */
  stop(): void {
    clearTimeout(this.pauseTimer);
    if (this.lastSent) {
      this.lastSent = 0;
      this.send('paused');
    }
  }
}

export class TypingShown {
  // conversation key -> user -> timer that clears the entry
  private who = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();

  constructor(private changed: (conversation: string) => void) {}

  set(conversation: string, user: string, typing: boolean): void {
    let users = this.who.get(conversation);
    if (!users) this.who.set(conversation, (users = new Map()));
    clearTimeout(users.get(user));
    users.delete(user);
    if (typing) users.set(user, setTimeout(() => this.set(conversation, user, false), SHOWN_MS));
    this.changed(conversation);
  }

  line(conversation: string): string {
    const users = [...(this.who.get(conversation)?.keys() ?? [])];
    if (users.length === 0) return '';
    if (users.length === 1) return `${users[0]} is typing…`;
    return `${users.slice(0, -1).join(', ')} and ${users[users.length - 1]} are typing…`;
  }
}
