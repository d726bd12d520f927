#include "reply.h"

#include <memory>

namespace courier::core {
namespace {

template <typename T>
storage::ReplyTag Make(T reply) {
  return std::make_shared<const T>(std::move(reply));
}

// Only MakeReply(T) makes the tags ReplyOf reads as T (see reply.h).
template <typename T>
const T& Read(const storage::ReplyTag& tag) {
  static const T kEmpty{};
  return tag ? *static_cast<const T*>(tag.get()) : kEmpty;
}

}  // namespace

storage::ReplyTag MakeReply(SignalReply reply) { return Make(std::move(reply)); }
storage::ReplyTag MakeReply(RelayReply reply) { return Make(std::move(reply)); }
storage::ReplyTag MakeReply(AdminReply reply) { return Make(std::move(reply)); }

const SignalReply& ReplyOf(const storage::ReceiptRequest& r) { return Read<SignalReply>(r.reply); }
const SignalReply& ReplyOf(const storage::PullRequest& r) { return Read<SignalReply>(r.reply); }
const SignalReply& ReplyOf(const storage::PushRegisterRequest& r) { return Read<SignalReply>(r.reply); }
const RelayReply& ReplyOf(const storage::MembersRequest& r) { return Read<RelayReply>(r.reply); }
const AdminReply& ReplyOf(const storage::AdminRequest& r) { return Read<AdminReply>(r.reply); }

}  // namespace courier::core
