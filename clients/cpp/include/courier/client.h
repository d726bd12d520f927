// courier::client — a C++ client library for the Courier chat transport
// (docs/protocol.md), on top of libmosquitto (MQTT over TCP or TLS) or its
// own MQTT v5 over WebSocket (ws:// or wss://; Options::transport).
//
// What it does for you, so an application never speaks the wire protocol:
//  - connects as one device (MQTT client id) of one user (MQTT username),
//    over TCP or WebSockets, with optional TLS, and reconnects with exponential backoff when the
//    connection drops;
//  - send(): publishes a Message and retries the same id (the server
//    deduplicates) with backoff while the answer is missing or transient,
//    until the SENDER acknowledgement (future/callback gets the offsets) or a
//    permanent error (error code parsed from "code: detail");
//  - hands every stored entry of the user's log to the message handler
//    exactly once per process and in offset order: offsets already delivered
//    are dropped, and when an offset skips, the gap is PULLed before later
//    entries are delivered (offsets a pull proves absent, such as copies
//    the server let expire, are skipped). This device's own sends are in
//    that stream too: the server does not echo their DEVICE copies back to
//    the sending device, so each is built from the Message sent and its
//    SENDER acknowledgement (offsets, server timestamp);
//  - after every (re)connect, pulls what it missed from its cursor (the
//    highest offset delivered in order), which it keeps in a small local file
//    written atomically (temp file + fsync + rename);
//  - receipts (markReceived, markRead), activity (setActivity), group sends.
//
// Threading: every public method of Client is thread-safe and does not block
// (it queues work for the network thread and returns), except close() and
// the destructor, which stop and join the network thread. Handlers run on
// the library's own network thread, one at a time, never concurrently with
// each other; they may call any public method except close() and the
// destructor (close() from a handler throws std::logic_error). A handler
// that blocks stalls the connection, so do not wait on a future of this
// client inside a handler. Exceptions thrown by handlers are caught and
// dropped. A connection attempt (name lookup, TCP and TLS connect, and the
// WebSocket upgrade) runs on the network thread as a blocking connect (at
// most connect_timeout for WebSockets); close() waits for one that is under
// way.
//
// Delivery guarantee: within one process every stored entry is delivered
// once, in offset order. Across a restart of the process, an entry can be
// delivered again if the process died after its handler returned and before
// the cursor file was rewritten (the file is rewritten after each batch of
// deliveries); applications that need exactly-once across crashes keep the
// offsets they have already shown.
//
// Errors: the constructor throws std::invalid_argument for unusable options
// (missing user, device, host, unreadable TLS files, a cursor file of another
// user or device). Nothing else throws; failures are reported as results
// (SendResult), handler events (ServerError, ConnectionEvent) or false.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace courier::client {

// The library's version, "MAJOR.MINOR.PATCH".
std::string Version();

// Which copy of a message (Message.signal_type / Signal.signal_type).
enum class Kind : int {
  kUnknown = 0,
  kSender = 1,    // the acknowledgement of a send
  kDevice = 2,    // a copy of a message this user sent (from any of its devices)
  kReceiver = 3,  // a copy of a message this user received
};

// Activity statuses (Signal.status).
enum class Status : int {
  kNone = 0,
  kChatting = 1,
  kRecording = 2,
  kPlayed = 3,
  kTyping = 4,
  kPaused = 5,
  kCancelled = 6,
  kResume = 7,
  kNotification = 8,
};

struct Identity {
  std::string user;
  std::string device;
  std::string group;  // set on `to` for a group conversation
};

// The ticks of a message: sent (accepted and stored), delivered to (received
// by) a device of the receiver, read.
struct AckState {
  bool sent = false;
  bool received = false;
  bool read = false;
};

// One entry of the connected user's log, as delivered to the message handler.
struct Message {
  std::string id;
  int32_t offset = 0;       // position in this user's log (signal_offset); 0 for transient
  int32_t user_offset = 0;  // position in the conversation
  Kind kind = Kind::kUnknown;
  Identity from;                 // the sender's user and device, set by the server
  Identity to;                   // user, or group
  int64_t timestamp = 0;         // the sender's clock, epoch ms
  int64_t server_timestamp = 0;  // when the server accepted it, epoch ms
  std::string payload;           // bytes
  std::string encryption_type;
  std::string encrypted;
  std::string signature;
  uint32_t type = 0;
  uint32_t expiry = 0;
  uint32_t priority = 0;
  bool transient = false;  // fire-and-forget: not stored, no offset, not ordered
  // Edit and recall. An edit or recall entry names the message it replaces
  // (`replaces`); a stored message pulled after it was edited has the new
  // content and `edited`, after a recall no content and `recalled`.
  std::string replaces;
  bool recall = false;
  bool edited = false;
  bool recalled = false;
  AckState state;       // the stored state when the copy was sent to us
  bool pulled = false;  // arrived by a pull (sync) rather than a live push
};

// A tick changed (a Signal of type RESPONSE about a stored message).
//  - kSender: a send of this user was accepted (also for the user's other
//    devices). offset/user_offset are the sender's.
//  - kReceiver: the receiver marked a message of this user received or read;
//    offset is this user's offset of the message; from is the reader.
//  - kDevice: a device of this user marked an entry of this user's log
//    received or read; offset is this user's offset.
// Receipts can repeat (a retried send is acknowledged again).
struct Receipt {
  Kind kind = Kind::kUnknown;
  std::string id;
  int32_t offset = 0;
  int32_t user_offset = 0;
  AckState state;  // for a group message: the state of member `from`
  Identity from;
  Identity to;
  int64_t timestamp = 0;
  // Group messages (kReceiver): members it went to, and how many of them
  // have received / read it so far. 0 for 1:1 messages.
  uint32_t recipients = 0;
  uint32_t received_count = 0;
  uint32_t read_count = 0;
};

// Someone is typing, recording, ... (never stored).
struct Activity {
  Identity from;
  Identity to;
  Status status = Status::kNone;
  int64_t timestamp = 0;
};

// An error not answered through a SendResult: a rejected receipt or activity,
// an `expired` notice (a message of this user expired before its receiver
// got it: offset/user_offset are the sender's, from is the receiver), or a
// local problem. Codes from the server are those of docs/protocol.md; local
// codes are
//   cursor_file   the cursor file could not be written (detail says why)
//   cursor_ahead  the server's head is below the local cursor (another or
//                 wiped store); the cursor was reset to the head
//   malformed_publish  a publish that arrived on a Courier topic did not
//                 parse (the server's bad_payload is about what this client
//                 sent; this one is about what it received)
//   unstable_connection  the connection ended soon after coming online three
//                 times in a row (typically: another client uses the same
//                 client id; Mosquitto before 2.0.15 just closes the older
//                 connection). The reconnect backoff then keeps growing.
struct ServerError {
  std::string id;
  std::string code;
  std::string detail;
  bool permanent = true;
  bool local = false;  // true: detected by the library, not sent by the server
  int32_t offset = 0;  // signal_offset of the Signal, when it has one
  int32_t user_offset = 0;
  Identity from;
};

enum class ConnectionState {
  kConnecting,  // a connection attempt is under way
  kOnline,      // connected, subscribed, pending work republished, sync started
  kOffline,     // the connection failed or was lost; will retry after a backoff
  kFailed,      // refused for good (credentials, authorization, client id
                // taken over by another connection, as Mosquitto >= 2.0.15
                // reports it): no more attempts
  kClosed,      // close() finished
};

struct ConnectionEvent {
  ConnectionState state = ConnectionState::kConnecting;
  std::string reason;  // why, for kOffline and kFailed
  int attempt = 0;     // consecutive failed attempts so far
};

// The outcome of send(). Exactly one of: accepted (ok, offsets set), a
// permanent error from the server (error_code/error_detail), or a local end:
//   timeout            SendOptions::timeout passed without an answer
//   closed             close() was called before an answer
//   connection_failed  the connection failed for good (see kFailed)
//   refused            the broker refused the publish itself (MQTT reason
//                      code, e.g. not authorized); detail names it
//   id_pending         a send with the same id is still in progress
//   and, before anything is published, the server's code for arguments it
//   would refuse whatever its configuration: missing_recipient,
//   invalid_recipient (both user and group, or not one topic level),
//   missing_id, invalid_priority (above 15), invalid_edit,
//   recall_has_content (attempts 0). Sizes are checked by the server.
//   connection_lost    a transient (fire-and-forget) send whose connection
//                      dropped before the answer
struct SendResult {
  std::string id;
  bool ok = false;
  int32_t offset = 0;       // the sender's own offset (its DEVICE copy)
  int32_t user_offset = 0;  // position in the conversation
  int64_t server_timestamp = 0;
  std::string error_code;
  std::string error_detail;
  int attempts = 0;  // how many times it was published
};

using SendCallback = std::function<void(const SendResult&)>;

struct SendOptions {
  std::string id;          // empty: 16 random hex characters
  int64_t timestamp = 0;   // 0: now
  uint32_t type = 0;       // application-defined
  uint32_t expiry = 0;     // seconds the server may hold it undelivered; 0 default
  uint32_t priority = 0;   // 0 highest .. 15 lowest
  bool transient = false;  // fire-and-forget: not stored, online receivers only;
                           // ok (offsets 0) once relayed; never retried (no dedup
                           // for them), so a lost connection ends it with
                           // connection_lost
  std::string encryption_type = "none";
  std::string encrypted;                 // base64, opaque to the server
  std::string signature;                 // base64
  std::chrono::milliseconds timeout{0};  // 0: retry until accepted, rejected or closed
  SendCallback on_done;                  // also called (on the network thread) with the result
};

// Exponential backoff: initial, doubled after every failure up to max, with
// +-20 % jitter.
struct Backoff {
  std::chrono::milliseconds initial;
  std::chrono::milliseconds max;
};

struct TlsOptions {
  std::string ca_file;    // PEM file of trusted CAs (like mosquitto_pub --cafile)
  std::string ca_path;    // directory of trusted CAs (--capath)
  std::string cert_file;  // client certificate (--cert), with key_file
  std::string key_file;   // client key (--key)
  bool insecure = false;  // do not check the server's host name (--insecure)
};

// Where to start when no cursor is known (no cursor file yet, or none used).
enum class StartFrom {
  kServerCursor,  // after this device's cursor on the server (what it has not
                  // acknowledged with receipts yet); default
  kBeginning,     // the whole log
  kNow,           // only what arrives from now on (the current head)
};

// How the client reaches the broker.
enum class Transport {
  kMqtt,        // MQTT straight over TCP (or TLS when `tls` is set), through
                // libmosquitto; the broker's default listener
  kWebSockets,  // MQTT inside WebSocket frames (ws://, or wss:// when `tls`
                // is set) to a `protocol websockets` listener, for networks
                // that let only HTTP(S) ports through
};

struct Options {
  std::string host = "localhost";
  int port = 1883;  // the websockets listener's port with kWebSockets
  Transport transport = Transport::kMqtt;
  std::string ws_path = "/mqtt";  // kWebSockets: the HTTP path of the upgrade request
  std::string user;               // MQTT username = Courier user; required
  std::string password;           // empty: none
  std::string device;             // MQTT client id = Courier device; required
  std::optional<TlsOptions> tls;
  std::string prefix = "msg";  // plugin_opt_topic_prefix of the broker
  int keepalive_s = 30;

  // Receive: subscribe to the inboxes, deliver messages, sync. False: only
  // send, receipts and activity (acknowledgements and errors still arrive).
  bool receive = true;
  // Pull from the cursor after every (re)connect. False: deliver live
  // messages only (gaps are still pulled); without a cursor the head at
  // connect time is taken as the start.
  bool sync_on_connect = true;
  // File that keeps the cursor across restarts; empty: memory only.
  std::string cursor_file;
  // Where to start when no cursor is known.
  StartFrom start_from = StartFrom::kServerCursor;
  // Start after this offset, whatever the cursor file says (the file is then
  // updated as usual).
  std::optional<int32_t> start_after;
  uint32_t pull_limit = 100;  // entries per PULL request

  Backoff reconnect{std::chrono::milliseconds(250), std::chrono::milliseconds(10000)};
  Backoff retry{std::chrono::milliseconds(1000), std::chrono::milliseconds(15000)};
  // Longest wait for CONNACK and SUBACK, and for a pull response.
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds pull_timeout{10000};
};

// Handlers. Any may be empty. They run on the network thread (see above).
struct Handlers {
  std::function<void(const Message&)> on_message;
  // An edit (replaces set, recall false) or a recall entry of the log, in
  // offset order with the other entries. Empty: the entry goes to on_message.
  std::function<void(const Message&)> on_edit;
  std::function<void(const Message&)> on_recall;
  std::function<void(const Receipt&)> on_receipt;
  std::function<void(const Activity&)> on_activity;
  std::function<void(const ServerError&)> on_error;
  std::function<void(const ConnectionEvent&)> on_connection;
  // A sync reached the head of the log: every entry up to `head` has been
  // delivered. Called after each sync (every reconnect, every sync()).
  std::function<void(int32_t head)> on_synced;
};

class Client {
 public:
  // Validates the options, loads the cursor file and prepares the MQTT
  // handle (TLS files are checked here). Does not connect; see start().
  explicit Client(Options options, Handlers handlers = {});
  // close() with a 2 s drain.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts the network thread, which connects and keeps reconnecting until
  // close(). Calling it again does nothing.
  void start();

  // Waits up to `drain` for receipts and activity already queued to be
  // acknowledged by the broker, disconnects and joins the network thread.
  // Pending sends end with error_code "closed". Idempotent. Must not be
  // called from a handler (throws std::logic_error).
  void close(std::chrono::milliseconds drain = std::chrono::milliseconds(2000));

  // Replaces the handlers (takes effect for the next events).
  void setHandlers(Handlers handlers);

  // Sends `payload` to user `to`. The future (and options.on_done) gets the
  // result; see SendResult. Can be called before start() and while offline:
  // the message goes out when the client is online.
  std::future<SendResult> send(const std::string& to, const std::string& payload, SendOptions options = {});
  // The same for a group conversation (to.group set, to.user empty).
  std::future<SendResult> sendToGroup(const std::string& group, const std::string& payload, SendOptions options = {});

  // Changes the content of message `id` that this user sent to `to` (the
  // original's user or group: the server refuses another one) to `payload`,
  // on every device of both sides. The edit is a message of its own, with
  // its own id (options.id) and offsets, sent and retried like send(); the
  // server refuses it with edit_window_closed after plugin_opt_edit_window_s,
  // already_recalled, unknown_original or edit_changes_recipient.
  std::future<SendResult> edit(const std::string& id, const Identity& to, const std::string& payload,
                               SendOptions options = {});
  // Takes message `id` back: its content is erased everywhere. Like edit(),
  // within plugin_opt_recall_window_s. options' content fields are ignored.
  std::future<SendResult> recall(const std::string& id, const Identity& to, SendOptions options = {});

  // Receipts for entry `offset` of this user's log (read implies received).
  // The future is true once the broker acknowledged the receipt (it is
  // republished after a reconnect until then), false if the client closed
  // first. A transient error (rate_limited) makes the library publish it
  // again after a backoff; permanent errors (unknown_offset) arrive at
  // on_error.
  std::future<bool> markReceived(int32_t offset);
  std::future<bool> markRead(int32_t offset);

  // Tells `to` (a user) or `group` what this user is doing. Not stored, not
  // retried: the future is false when the client is not online.
  std::future<bool> setActivity(const std::string& to, Status status);
  std::future<bool> setGroupActivity(const std::string& group, Status status);

  // Pulls from the cursor now (if no pull is running) and resolves with the
  // head once everything up to it has been delivered; nullopt if the client
  // closes first.
  std::future<std::optional<int32_t>> sync();

  // Asks the server for the head of this user's log (a PUSH request); nullopt
  // if the client closes first. A cheap round trip: everything published
  // before it has been processed by the server when it resolves.
  std::future<std::optional<int32_t>> queryHead();

  // The highest offset delivered in order (-1 while not known yet).
  int32_t cursor() const;
  bool online() const;
  // Sends not finished yet.
  size_t pendingSends() const;
  const Options& options() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// 16 random lower-case hex characters (the default message id).
std::string RandomId();

// "code: detail" -> {code, detail}; a text without ": " is all code.
std::pair<std::string, std::string> SplitError(const std::string& error);

}  // namespace courier::client
