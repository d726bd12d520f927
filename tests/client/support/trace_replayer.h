// Replays one conformance trace (clients/conformance/README.md) against the
// C++ protocol core, courier::client::detail::Session, and returns the
// mismatches. No broker, no clock: time is the trace's number.
//
// Mapping to the Session: `connect` is OnConnected + OnSubscribed (CONNACK
// and SUBACK), `disconnect` OnConnectionLost, `advance` Tick. Completions
// SendDone become the trace events sendResolved / sendRejected; the other
// completions (receipts, activity, sync futures) and cursor moves are not
// trace events. A `send` step with `throws` must end at once with a
// sendRejected of that code and publish nothing (CheckSend); other steps
// with `throws` are skipped: the C++ client's receipts and activity leave
// their argument checks to the server.
#pragma once

#include <string>
#include <vector>

namespace courier::testing {

struct TraceResult {
  std::string name;
  std::vector<std::string> failures;  // empty: the trace passes
  int steps = 0;
  int skipped = 0;  // `throws` steps other than sends
};

// Throws std::runtime_error when the file cannot be read or is not a trace.
TraceResult ReplayTraceFile(const std::string& path);

}  // namespace courier::testing
