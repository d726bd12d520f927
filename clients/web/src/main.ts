// Entry point: the sign-in form, then one Chat per signed-in session.
import { Chat } from './chat';
import { defaultUrl, deviceFor, forget, lastUser, save, saved, type Identity } from './identity';
import { explain } from './words';
import { CourierError } from '@courier/client';

const login = document.getElementById('login') as HTMLFormElement;
const openForm = document.getElementById('open') as HTMLFormElement;
const compose = document.getElementById('compose') as HTMLFormElement;
const logout = document.getElementById('logout') as HTMLButtonElement;
const field = (form: HTMLFormElement, name: string) => form.elements.namedItem(name) as HTMLInputElement;

let chat: Chat | undefined;

async function signIn(id: Identity, password: string | undefined): Promise<void> {
  field(login, 'user').disabled = true;
  document.getElementById('login-error')!.textContent = '';
  const c = new Chat(id, password);
  try {
    await c.start();
  } catch (e) {
    await c.stop().catch(() => {});
    field(login, 'user').disabled = false;
    login.hidden = false;
    const words = e instanceof CourierError ? explain(e.code, e.detail) : String((e as Error)?.message ?? e);
    document.getElementById('login-error')!.textContent = `Could not sign in: ${words}`;
    return;
  }
  chat = c;
  // Passwords stay in memory: a reload asks again instead of storing one.
  save({ ...id, needsPassword: !!password });
  login.hidden = true;
  document.getElementById('chat')!.hidden = false;
  logout.hidden = false;
  document.getElementById('me')!.textContent = `${id.user} (${id.device})`;
  // Expose the session for debugging from the console.
  (window as unknown as { courier: Chat }).courier = c;
}

login.addEventListener('input', () => {
  field(login, 'device').value = deviceFor(field(login, 'user').value.trim());
});

login.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const user = field(login, 'user').value.trim();
  const url = field(login, 'url').value.trim() || defaultUrl();
  void signIn({ user, device: deviceFor(user), url }, field(login, 'password').value || undefined);
});

openForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = field(openForm, 'name').value.trim();
  const kind = (openForm.elements.namedItem('kind') as HTMLSelectElement).value as 'user' | 'group';
  if (!name || !chat) return;
  chat.openPeer({ kind, name });
  field(openForm, 'name').value = '';
});

const text = field(compose, 'text');
text.addEventListener('input', () => chat?.typed(text.value));
compose.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const value = text.value;
  text.value = '';
  void chat?.send(value);
});

logout.addEventListener('click', async () => {
  forget();
  await chat?.stop();
  location.reload();
});

// A reload of a signed-in tab signs in again as the same device.
const before = saved();
field(login, 'url').value = before?.url ?? defaultUrl();
field(login, 'user').value = before?.user ?? lastUser();
field(login, 'device').value = deviceFor(field(login, 'user').value);
if (before && !before.needsPassword) {
  login.hidden = true;
  void signIn(before, undefined);
}
