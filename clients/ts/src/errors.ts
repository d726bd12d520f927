// Error classes of the library. Everything the library rejects or reports
// is a CourierError with a stable lower-case `code`:
//  - server codes from docs/protocol.md ("Errors"), e.g. `id_conflict`;
//  - local codes: `malformed_publish` (an inbound publish on a Courier topic
//    did not decode), `timeout`, `closed`, `connection_lost`, `refused`
//    (the broker refused the publish), `cursor_store`, `cursor_ahead`;
//  - CourierArgumentError codes for invalid arguments, thrown before
//    anything is published (see validate.ts).

export class CourierError extends Error {
  readonly code: string;
  readonly detail: string;
  /** The message or signal id it is about, when there is one. */
  readonly id: string;
  /** false: a transient server error (the library retries by itself). */
  readonly permanent: boolean;
  /** true: detected by the library, not sent by the server. */
  readonly local: boolean;

  constructor(code: string, detail = '', opts: { id?: string; permanent?: boolean; local?: boolean } = {}) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'CourierError';
    this.code = code;
    this.detail = detail;
    this.id = opts.id ?? '';
    this.permanent = opts.permanent ?? true;
    this.local = opts.local ?? false;
  }
}

/** An argument the library refuses before publishing anything. */
export class CourierArgumentError extends CourierError {
  constructor(code: string, detail: string) {
    super(code, detail, { local: true });
    this.name = 'CourierArgumentError';
  }
}

/** "code: detail" -> [code, detail]; a text without ':' is all code. */
export function splitError(error: string): [string, string] {
  const colon = error.indexOf(':');
  if (colon < 0) return [error, ''];
  return [error.slice(0, colon), error.slice(colon + 1).trim()];
}
