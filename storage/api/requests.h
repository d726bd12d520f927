// The operations a Store carries out, and what each one returns.
// Requests are plain values: the core builds them, the store applies them in
// submission order, and hands back one Completion per request. A request
// carries only what the store needs; what its caller needs to answer it
// travels in an opaque ReplyTag. Engine-neutral: every engine implements
// these semantics exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "messaging.pb.h"
#include "status.h"

namespace courier::storage {

// What the caller needs to answer a request once it completes (the core
// keeps there the Signal's id, the asking device, a relayed payload, the
// admin commands' names). The store never reads it and hands it back
// untouched in Completion::request. Points to an immutable object, so it
// may cross to and be released on the store's worker thread. May be null.
using ReplyTag = std::shared_ptr<const void>;

// Append one message, deduplicated by (sender, message.id()).
// The store assigns every offset atomically: user_offset from the
// conversation's counter, and a signal_offset in each log it writes to.
//
// With `group` set, the receivers are the group's members but the sender,
// read inside the transaction (membership changes apply to later messages);
// NotFound when the group does not exist, kForbidden when the sender is not
// a member. `receivers` is then ignored.
struct AppendRequest {
  std::string sender;                  // user who sent it; its log gets the DEVICE copy
  std::vector<std::string> receivers;  // users that get a RECEIVER copy; never the sender
  std::string group;                   // group to deliver to, or empty
  std::string conversation;            // opaque key of the user_offset counter
  courier::v1::Message message;        // validated template: from, to, content, server_timestamp
  int64_t expires_ms = 0;              // RECEIVER copies not received by then are never delivered; 0 = never
  // When > 0: fail with kLimit, writing nothing, if a receiver already has
  // this many entries that no device of it has received.
  uint32_t max_undelivered = 0;
  // An edit or recall (message.replaces() set): the original is the stored
  // message (sender, replaces). In the same transaction as the append, an
  // edit gives the original (and the bodies of earlier edits of it) the
  // message's content and `edited`; a recall erases their content and sets
  // `recalled`. The original's server_timestamp must be at least this.
  int64_t replace_not_before_ms = 0;
  // Write a due push (PushDue) for every registered device of every
  // receiver, in this transaction; with push_payload it keeps the payload.
  bool push = false;
  bool push_payload = false;
};

// A push notification that is due for one device of a user: a RECEIVER copy
// at `offset` of `user`'s log. Stored until the gateway took it or a device
// of the user received the entry.
struct PushDue {
  std::string user;
  std::string device;
  int32_t offset = 0;
  std::string app;
  std::string token;
  std::string id;  // the message's id
  std::string from_user;
  std::string from_device;
  std::string group;  // empty for a 1:1 message
  int32_t user_offset = 0;
  uint32_t priority = 0;
  int32_t undelivered = 0;  // the user's undelivered entries, this one included
  int64_t created_ms = 0;   // the message's server_timestamp
  std::string payload;      // only with AppendRequest::push_payload
};

// Why an edit or recall was refused. Nothing was written.
enum class ReplaceRefusal {
  kNone,
  kUnknownOriginal,   // no stored message (sender, replaces), or it is an edit or recall itself
  kWindowClosed,      // the original's server_timestamp is before replace_not_before_ms
  kAlreadyRecalled,   // the original was recalled
  kRecipientChanged,  // message.to names another user or group than the original's
};

struct AppendResult {
  // True when (sender, id) was already stored: nothing was written and
  // device_copy is the original sender copy (compare content to detect a conflict).
  bool duplicate = false;
  // An edit or recall that was refused; nothing was written.
  ReplaceRefusal refused = ReplaceRefusal::kNone;
  courier::v1::Message device_copy;                   // signal_type DEVICE, sender's offset
  std::vector<std::string> receivers;                 // parallel to receiver_copies
  std::vector<courier::v1::Message> receiver_copies;  // signal_type RECEIVER, each receiver's offset
  std::vector<PushDue> pushes;                        // written when AppendRequest::push
};

// Record a delivery receipt on entry `offset` of `user`'s log and move the
// cursor of (user, device) to at least `offset`. The entry's due pushes
// (every device of the user) are removed: a device has it. Ack flags are only ever
// set, never cleared. Only RECEIVER copies (and their sender-side peer)
// change state: on a user's own DEVICE copy a receipt moves the cursor only.
// NotFound when the log has no entry at `offset`.
struct ReceiptRequest {
  std::string user;
  std::string device;
  int32_t offset = 0;
  bool received = false;
  bool read = false;
  ReplyTag reply;
};

struct ReceiptResult {
  bool changed = false;                      // some ack flag went from false to true
  courier::v1::Message entry;                // the user's copy, after the update
  std::string peer_user;                     // empty when the entry has no peer
  std::optional<courier::v1::Message> peer;  // the counterpart copy, after the update
  // When the peer is the sender copy of a group message: members it went to,
  // and how many have received and read it.
  uint32_t recipients = 0;
  uint32_t received_count = 0;
  uint32_t read_count = 0;
};

// Registers (user, device) for push with `app` and `token`, replacing an
// earlier registration; an empty token removes it and the device's due
// pushes. kInvalid for names the store's keys cannot hold.
struct PushRegisterRequest {
  std::string user;
  std::string device;
  std::string app;
  std::string token;
  int64_t now_ms = 0;
  ReplyTag reply;
};

struct PushRegisterResult {
  bool existed = false;  // a registration was there before
};

// The key of one due push.
struct PushKey {
  std::string user;
  std::string device;
  int32_t offset = 0;
};

// Removes due pushes (the gateway took them, or gave up on them); keys
// already gone are skipped.
struct PushDoneRequest {
  std::vector<PushKey> done;
  // Devices whose registration goes (the gateway rejected the token), with
  // all their due pushes; PushKey::offset unused.
  std::vector<PushKey> unregister;
};

struct PushDoneResult {
  uint32_t removed = 0;
};

// Reads up to `limit` due pushes, oldest key first after `after_key` (a
// PushScanResult::next_key, empty to start): what a restart must still send.
struct PushScanRequest {
  std::string after_key;
  uint32_t limit = 0;
};

struct PushScanResult {
  std::vector<PushDue> due;
  std::string next_key;  // empty when the scan reached the end
};

// Read up to `limit` entries after `after`, oldest first. `after` < 0 means
// "after the cursor of (user, device)" (0 when it has none).
// Entries that expired before any device of the user received them are
// skipped (their offsets stay taken).
struct PullRequest {
  std::string user;
  std::string device;
  int32_t after = 0;
  uint32_t limit = 0;
  int64_t now_ms = 0;  // entries whose expiry is before this count as expired
  ReplyTag reply;
};

struct PullResult {
  int32_t head = 0;     // the highest offset of the user's log (0 when empty)
  int32_t reached = 0;  // the highest offset this pull covered, sent or skipped as expired
  std::vector<courier::v1::Message> entries;
};

// The members of `group`, for what is relayed to a group without being
// stored (activity, transient messages). NotFound for an unknown group,
// kForbidden when `user` is not a member.
struct MembersRequest {
  std::string user;
  std::string group;
  ReplyTag reply;  // the core keeps there what it relays
};

struct MembersResult {
  std::vector<std::string> members;
};

// Marks at most `max_entries` RECEIVER copies whose expiry is before
// `now_ms` and that no device received as expired, and returns them.
// Copies that were received meanwhile just leave the expiry index.
struct ExpireRequest {
  int64_t now_ms = 0;
  uint32_t max_entries = 0;
};

struct Expired {
  std::string receiver;
  courier::v1::Message entry;  // the receiver's copy
  int32_t sender_offset = 0;   // position of the sender's copy, 0 when gone
};

struct ExpireResult {
  std::vector<Expired> expired;
};

// Removes, in a bounded slice, entries older than `older_than_ms` that every
// known device of their user has received (cursor at or past them), with the
// dedup record of removed sender copies. Heads never move back. A user with
// no device cursor keeps everything. Resumes where the last slice stopped.
struct TrimRequest {
  int64_t older_than_ms = 0;
  uint32_t max_entries = 0;
};

struct TrimResult {
  uint32_t removed = 0;
};

// Administration: groups and per-user state. One request carries several
// operations, applied in order; each has its own status.
struct AdminOp {
  enum class Kind {
    kCreateGroup,   // group, members; kInvalid when it exists
    kDeleteGroup,   // group; NotFound when missing
    kAddMember,     // group, user; kLimit past max_members
    kRemoveMember,  // group, user; NotFound when not a member
    kListGroups,    // -> names
    kGetGroup,      // group, conversation -> names (members), user_offset
    kGetUser,       // user -> head, cursors, undelivered
    kListPush,      // user -> push_regs
    kRemovePush,    // user, device; NotFound when not registered
    kNone,          // answered without the store (stats, bad commands)
  };
  Kind kind = Kind::kNone;
  std::string group;
  std::string user;
  std::string device;        // kRemovePush
  std::string conversation;  // kGetGroup: the key of the group's user_offset counter
  std::vector<std::string> members;
  uint32_t max_members = 0;
  int64_t now_ms = 0;
};

struct AdminOpResult {
  Status status;
  std::vector<std::string> names;
  int32_t head = 0;
  int32_t undelivered = 0;
  int32_t user_offset = 0;
  std::vector<std::pair<std::string, int32_t>> cursors;  // device, cursor
  struct PushReg {
    std::string device, app, token;
    int64_t registered_ms = 0;
    int32_t due = 0;  // pushes due for the device
  };
  std::vector<PushReg> push_regs;
};

struct AdminRequest {
  std::vector<AdminOp> ops;  // kNone ops are skipped (their result stays default)
  ReplyTag reply;            // the core keeps there who asked and the command names
};

struct AdminResult {
  std::vector<AdminOpResult> results;  // parallel to AdminRequest::ops
};

using Request = std::variant<AppendRequest, ReceiptRequest, PullRequest, MembersRequest, ExpireRequest, TrimRequest,
                             AdminRequest, PushRegisterRequest, PushDoneRequest, PushScanRequest>;
using Result = std::variant<std::monostate, AppendResult, ReceiptResult, PullResult, MembersResult, ExpireResult,
                            TrimResult, AdminResult, PushRegisterResult, PushDoneResult, PushScanResult>;

// One finished request. `result` holds the alternative matching `request`
// when status.ok(), and std::monostate otherwise.
struct Completion {
  Request request;
  Status status;
  Result result;
};

}  // namespace courier::storage
