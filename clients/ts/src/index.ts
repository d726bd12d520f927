// @courier/client: the public entry. Imports no Node module, so it bundles
// for browsers; FileCursorStore is in '@courier/client/node'.
export { Client, type ClientOptions, type ClientEvents, type ConnectionEvent } from './client.js';
export { CourierError, CourierArgumentError, splitError } from './errors.js';
export { MemoryCursorStore, LocalStorageCursorStore, type CursorStore, type StorageLike } from './cursor.js';
export { Session, type SessionOptions, type SessionEvent, type Action } from './session.js';
export { Sequencer, type PullOrder, type StartFrom } from './sequencer.js';
export type { Backoff } from './backoff.js';
export { isValidName, DEFAULT_LIMITS, type Limits } from './validate.js';
export * from './types.js';
