// The security invariants the fuzz target checks (inbound_fuzz.cc): every
// check aborts the process, printing what broke, when its invariant does not
// hold; libFuzzer records that as a finding.
#pragma once

#include <string>
#include <string_view>

#include "engine.h"
#include "messaging.pb.h"

namespace courier::fuzz {

using courier::v1::Message;
using courier::v1::Signal;

// Names stored under another variant (housekeeping of a shared store) may
// be as long as the largest variant allows.
inline constexpr size_t kMaxNameAnyVariant = 254;
inline constexpr int kSignalTypeDevice = 2;
inline constexpr int kSignalTypeReceiver = 3;

[[noreturn]] void Fail(const std::string& what);
void Check(bool ok, const std::string& what);
// `s` with every byte outside printable ASCII (and '\\') as \xNN.
std::string Printable(std::string_view s);
bool EndsWith(std::string_view s, std::string_view suffix);

// Every publish the plugin makes: an admin reply to one client, or a publish
// below the prefix to the inbox (a Message) or events (a Signal) of a valid
// user name, whose `from`, when set, is a valid name too.
void CheckPublishShape(const core::Engine& e, const core::Publish& p);
// An error Signal: a documented code, type ERROR for permanent and
// RESPONSE for transient codes, signal_offset_state false.
void CheckError(const Signal& s, const std::string& ctx);
// ACL: what CheckAccess allows must be the publisher's own topics.
void CheckAcl(const core::Engine& e, std::string_view topic, std::string_view user, std::string_view client);
// OnPublish: identity binding and what a refused publish may cause.
void CheckDecision(const core::Engine& e, const core::Inbound& in, const core::Decision& d, bool write_allowed);
// OnControl ($CONTROL/courier/v1): only admins reach the store; replies go
// to the asking client only.
void CheckControl(const core::Engine& e, const core::Inbound& in, const core::Decision& d);

}  // namespace courier::fuzz
