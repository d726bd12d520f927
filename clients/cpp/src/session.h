// Session: the client side of the Courier protocol (docs/protocol.md)
// without I/O — no libmosquitto, no threads, no clock, no files, no
// randomness of its own. Client::Impl (client.cc) owns one and feeds it
// inputs; the conformance tests (tests/client/conformance_test.cc) replay the
// traces of clients/conformance/ against it.
//
// Inputs: application commands (Send, Mark, SetActivity, Sync, QueryHead),
// connection changes (OnConnected -> OnSubscribed, OnConnectionLost, Finish),
// broker answers (OnPubAck, OnPublishFailed), inbound publishes (OnPublish)
// and time (every input takes `now`, epoch ms; Tick(now) once NextDeadline()
// is due). Outputs: TakeActions() returns, in order, what the inputs asked
// for — publishes, a subscribe, application events, command completions and
// cursor moves. Completions and events come in one sequence so that the
// caller can resolve futures in the order it calls handlers.
//
// What it owns: the Sequencer (in-order delivery, gap pulls), syncs after
// every connection from the cursor, sends retried with the same id and bytes
// (backoff while the answer is missing or transient, resolved by the SENDER
// ack or a permanent ERROR), the DEVICE entry of this device's own sends,
// receipts (republished until the broker acknowledged them; again after a
// transient error), activity, head queries.
//
// Commands are named by a Handle the caller picks (unique per command); the
// completion carries it back. Message ids are the caller's too: Send needs a
// non-empty id (Client draws a random one). Arguments are not checked beyond
// that: the server checks names, sizes and priorities against its own
// (configurable) limits, and its error code ends the send.
//
// Thread: none of its own; not thread-safe (Client calls it from its network
// thread only). Nothing throws except std::bad_alloc.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "courier/client.h"
#include "sequencer.h"
#include "wire.h"

namespace courier::client::detail {

using Handle = uint64_t;

struct SessionConfig {
  std::string user;
  std::string device;
  std::string prefix = "msg";
  std::optional<int32_t> cursor;  // highest offset already delivered; nullopt: unknown
  bool receive = true;            // Options::receive
  bool sync_on_connect = true;    // Options::sync_on_connect
  StartFrom start_from = StartFrom::kServerCursor;
  uint32_t pull_limit = 100;
  Backoff retry{std::chrono::milliseconds(1000), std::chrono::milliseconds(15000)};
  int64_t pull_timeout_ms = 10000;
  std::string pull_id_prefix = "sync-";  // pull request ids: prefix + counter
  std::string head_id_prefix = "head-";  // head query ids: prefix + counter
  // Jitter source in [0, 1); 0.5 means none. Empty: no jitter.
  std::function<double()> random;
};

// A message to send (the rest comes from SendOptions).
struct Outgoing {
  Identity to;  // user, or group
  std::string payload;
  std::string replaces;  // edit / recall: the id of the original
  bool recall = false;
};

// ---- actions ----
struct PublishAction {
  std::string topic;
  std::string bytes;
  int qos = 1;
  uint64_t token = 0;  // non-zero: report the broker's answer with OnPubAck(token, ...)
};
struct SubscribeAction {
  std::vector<std::string> topics;
};
struct SyncedEvent {
  int32_t head = 0;
};
struct SendDone {  // a Send ended: ok, rejected, or a local end (see SendResult)
  Handle handle = 0;
  SendResult result;
};
struct MarkDone {
  Handle handle = 0;
  bool ok = false;
};
struct ActivityDone {
  Handle handle = 0;
  bool ok = false;
};
struct SyncDone {
  Handle handle = 0;
  std::optional<int32_t> head;
};
struct HeadDone {
  Handle handle = 0;
  std::optional<int32_t> head;
};
struct CursorMoved {  // the in-order cursor changed: persist it
  int32_t cursor = 0;
};

using Action = std::variant<PublishAction, SubscribeAction, Message, Receipt, Activity, ServerError, SyncedEvent,
                            SendDone, MarkDone, ActivityDone, SyncDone, HeadDone, CursorMoved>;

// What the broker said about a publish that asked for it (PUBACK).
enum class PubAck {
  kAccepted,
  kRefused,  // refused for good (a reason code no retry changes); `reason` says which
  kFailed,   // refused this time
};

class Session {
 public:
  explicit Session(SessionConfig config);

  // Everything the inputs so far asked for, in order; empties the queue.
  std::vector<Action> TakeActions();
  // When Tick() is next needed (epoch ms), or nullopt.
  std::optional<int64_t> NextDeadline() const;

  // ---- connection ----
  // CONNACK arrived: asks for the subscription (a SubscribeAction).
  void OnConnected(int64_t now);
  // SUBACK arrived: online. Republishes pending receipts and sends, then
  // starts a sync from the cursor.
  void OnSubscribed(int64_t now);
  // The connection is gone. Fire-and-forget sends end with connection_lost,
  // activity not acknowledged ends false; the rest waits for the next one.
  void OnConnectionLost(const std::string& reason, int64_t now);
  // The end (close, or refused for good): every send ends with `code`
  // ("closed", "connection_failed"), receipts and activity false, syncs and
  // head queries nullopt. Later commands end the same way at once.
  void Finish(const std::string& code, const std::string& detail);
  // While closing: Tick() only republishes receipts; nothing new starts.
  void SetDraining() { draining_ = true; }
  // Nothing waits for a broker acknowledgement (receipts, activity).
  bool Drained() const { return receipts_.empty() && activities_.empty(); }

  // ---- time ----
  void Tick(int64_t now);

  // ---- broker answers ----
  void OnPubAck(uint64_t token, PubAck ack, const std::string& reason);
  // The publish with `token` could not be handed to the connection.
  void OnPublishFailed(uint64_t token);

  // ---- application commands ----
  void Send(Handle h, Outgoing m, const SendOptions& o, int64_t now);
  // A receipt for entry `offset` of this user's log. `id`: the message's id
  // when the caller knows it (else the id of a recent delivery at `offset`).
  void Mark(Handle h, int32_t offset, bool read, int64_t now, const std::string& id = {});
  void SetActivity(Handle h, const Identity& to, Status status, int64_t now);
  void Sync(Handle h, int64_t now);
  void QueryHead(Handle h, int64_t now);

  // ---- inbound ----
  // A publish on `topic`; topics that are not this device's are ignored.
  void OnPublish(const std::string& topic, const std::string& bytes, int64_t now);

  // ---- state ----
  bool online() const { return online_; }
  std::optional<int32_t> cursor() const { return seq_.cursor(); }
  size_t pending_sends() const { return sends_.size(); }
  const Topics& topics() const { return topics_; }

 private:
  struct PendingSend {
    Handle handle = 0;
    std::string id;
    v1::Message message;
    std::string bytes;  // the serialized Message, identical on every attempt
    bool transient = false;
    int attempts = 0;
    int64_t next_attempt = 0;
    std::optional<int64_t> give_up;
  };
  struct PendingReceipt {
    Handle handle = 0;  // 0: a copy requeued after a transient error (nobody waits)
    int32_t offset = 0;
    bool read = false;
    std::string id;      // what the Signal carries, for matching a transient error
    uint64_t token = 0;  // 0: not published on this connection
    int64_t not_before = 0;
    int failures = 0;
  };
  struct PendingHead {
    Handle handle = 0;
    bool sent = false;
    int64_t not_before = 0;
    int failures = 0;
  };
  struct Sent {  // what a publish token stands for
    enum class What { kSend, kReceipt, kActivity } what;
    std::string send_id;
    uint64_t receipt = 0;
    Handle activity = 0;
  };

  int64_t Backoff(int failures) const;
  uint64_t NewToken(Sent s);
  void Publish(const std::string& topic, std::string bytes, uint64_t token = 0);

  void PublishSend(PendingSend& p, int64_t now);
  void PublishReceipt(uint64_t n, PendingReceipt& r, int64_t now);
  void PublishPull(const PullOrder& o, int64_t now);
  void PublishHead(const std::string& id, PendingHead& h, int64_t now);
  void PublishDue(int64_t now);
  void StartSync(int64_t now);
  void Resolve(const std::string& id, SendResult r);

  void OnSignal(const v1::Signal& s, int64_t now);
  void OnTransientError(const v1::Signal& s, int64_t now);
  void OnPullResponse(const v1::Signal& s, int64_t now);
  void OwnCopy(const PendingSend& p, const v1::Signal& ack, int64_t now);
  void Deliver(std::vector<Message> batch);
  void Synced(int32_t head, int64_t now);
  void LocalError(std::string code, std::string detail);
  void RememberReceipt(const PendingReceipt& r);

  static constexpr size_t kRecentIds = 4096;       // deliveries remembered, for receipt ids
  static constexpr size_t kRecentReceipts = 1024;  // receipts kept for a transient error

  const SessionConfig config_;
  const Topics topics_;
  std::vector<Action> actions_;
  bool online_ = false;
  bool draining_ = false;
  std::optional<std::pair<std::string, std::string>> finished_;  // code, detail

  uint64_t next_token_ = 1;
  std::map<uint64_t, Sent> tokens_;  // publishes waiting for PUBACK, this connection

  std::map<uint64_t, PendingSend> sends_;     // by submission order: resend in it
  std::map<std::string, uint64_t> send_ids_;  // id -> key of sends_
  uint64_t next_send_ = 1;
  std::map<uint64_t, PendingReceipt> receipts_;
  uint64_t next_receipt_ = 1;
  std::map<std::string, PendingReceipt> sent_receipts_;  // by id, for a transient error
  std::deque<std::string> sent_receipt_order_;
  std::map<Handle, bool> activities_;  // waiting for PUBACK
  std::map<std::string, PendingHead> heads_;
  uint64_t next_head_ = 1;

  Sequencer seq_;
  std::optional<int64_t> pull_deadline_;
  std::optional<std::pair<PullOrder, int64_t>> pull_retry_;
  int pull_failures_ = 0;
  std::vector<Handle> sync_waiting_, sync_armed_;
  std::map<int32_t, std::string> recent_ids_;  // offset -> id of recent deliveries
  std::optional<int32_t> reported_cursor_;
};

}  // namespace courier::client::detail
