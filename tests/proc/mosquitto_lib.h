// Shared pieces of the libmosquitto clients in the tests and the bench.
// Thread-safe; nothing throws.
#pragma once

struct mosquitto;

namespace courier::proc {

// mosquitto_lib_init, once per process, whichever client comes first.
void MosquittoLibInit();
// Ends a client handle: DISCONNECT (which also marks a handle whose socket
// is already gone as disconnecting, so its network thread stops trying to
// reconnect), then stops the network thread when *loop_running (and clears
// it), then destroys the handle and sets *mosq to nullptr. No-op when *mosq
// is nullptr.
void CloseMosquitto(struct mosquitto** mosq, bool* loop_running);

}  // namespace courier::proc
