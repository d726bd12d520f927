// Outbox: publishes built on the store's commit thread, waiting for the
// broker thread to send them. Only the broker thread may call Mosquitto, but
// turning a finished commit into publishes (building and serializing the
// copies and acks, then freeing the requests and results) needs no broker,
// so it runs beside the commits and the broker thread only sends.
//
// Thread: Put from any thread, Take from any thread; both are short critical
// sections under one mutex. Order: Take returns publishes in Put order.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "action.h"

namespace courier::plugin {

class Outbox {
 public:
  struct Contents {
    std::vector<core::Publish> publishes;
    // What went wrong while building publishes, for the broker thread to log
    // (logging calls into Mosquitto, so the commit thread must not).
    std::vector<std::string> failures;
  };

  void Put(Contents more);
  // Everything put so far; the outbox is empty afterwards.
  Contents Take();

 private:
  std::mutex mu_;
  Contents contents_;
};

}  // namespace courier::plugin
