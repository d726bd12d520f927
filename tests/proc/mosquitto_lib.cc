#include "proc/mosquitto_lib.h"

#include <mosquitto.h>

#include <mutex>

namespace courier::proc {

void MosquittoLibInit() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

void CloseMosquitto(struct mosquitto** mosq, bool* loop_running) {
  if (*mosq == nullptr) return;
  mosquitto_disconnect(*mosq);
  if (*loop_running) {
    mosquitto_loop_stop(*mosq, false);
    *loop_running = false;
  }
  mosquitto_destroy(*mosq);
  *mosq = nullptr;
}

}  // namespace courier::proc
