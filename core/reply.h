// What the core keeps beside a storage request to answer it once the store
// completes it: the ids, the asking device or client, a payload to relay.
// The store carries it untouched as the request's ReplyTag (requests.h), so
// requests hold only what the store needs.
//
// Each request type has one reply type, and only these functions make and
// read tags, so a tag always holds what its reader expects:
//   ReceiptRequest, PullRequest, PushRegisterRequest -> SignalReply
//   MembersRequest                                   -> RelayReply
//   AdminRequest                                     -> AdminReply
// Thread: a reply is immutable once made, so a tag may be read and released
// on the store's worker thread. A null tag (a request not built by the
// core, as in tests) reads as an empty reply.
#pragma once

#include <string>
#include <vector>

#include "messaging.pb.h"
#include "requests.h"

namespace courier::core {

// A request caused by a Signal.
struct SignalReply {
  std::string id;  // the Signal's id, echoed in replies
};

// A group relay (MembersRequest): what to relay to the members.
struct RelayReply {
  std::string id;      // echoed in error replies
  std::string device;  // the device that sent it
  bool is_activity = true;
  courier::v1::Signal activity;    // an activity Signal, or
  courier::v1::Message transient;  // a transient Message (one of the two is set)
};

// An admin request: who asked and what, parallel to AdminRequest::ops.
struct AdminReply {
  std::string client_id;                  // the response goes to this client only
  std::vector<std::string> commands;      // the command names
  std::vector<std::string> correlations;  // correlationData
  std::vector<std::string> errors;        // an error already known (bad command)
};

storage::ReplyTag MakeReply(SignalReply reply);
storage::ReplyTag MakeReply(RelayReply reply);
storage::ReplyTag MakeReply(AdminReply reply);

const SignalReply& ReplyOf(const storage::ReceiptRequest& r);
const SignalReply& ReplyOf(const storage::PullRequest& r);
const SignalReply& ReplyOf(const storage::PushRegisterRequest& r);
const RelayReply& ReplyOf(const storage::MembersRequest& r);
const AdminReply& ReplyOf(const storage::AdminRequest& r);

}  // namespace courier::core
