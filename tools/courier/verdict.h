// The end of `read` and `typing`: after publishing, ask the server for the
// head as a barrier, so that any error about what was published has arrived
// (the server answers on one topic, in order) before deciding the exit code.
#pragma once

#include <future>
#include <mutex>
#include <vector>

#include "courier/client.h"
#include "session.h"

namespace courier::cli {

// Collects the server's error signals (written on the network thread).
struct Errors {
  std::mutex mu;
  std::vector<client::ServerError> list;
};

template <typename T>
bool ready_by(std::future<T>& f, Clock::time_point deadline) {
  return f.wait_until(deadline) == std::future_status::ready;
}

// Handlers that collect the server's errors in `errors` and print local
// warnings.
client::Handlers error_handlers(Errors& errors);

// A started client that only publishes (receive off), with what finish()
// needs: the server's errors and the connection's state.
struct PublishOnly {
  explicit PublishOnly(client::Options options);
  Errors errors;
  Waiter waiter;
  ConnectionWatch watch{&waiter};
  client::Client client;
};

// Waits until the client is online (or failed, or the deadline passed).
bool wait_online(ConnectionWatch& watch, Waiter& waiter, Clock::time_point deadline);

// After the publishes: barrier, close, then map what happened to an exit
// code. Prints the errors; returns -1 when everything went through.
int finish(client::Client& c, ConnectionWatch& watch, Errors& errors, bool published, Clock::time_point deadline);

}  // namespace courier::cli
