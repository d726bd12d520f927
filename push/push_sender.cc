#include "push_sender.h"

#include <curl/curl.h>

#include <chrono>

#include "push_body.h"

namespace courier::push {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Aborts a transfer once the sender is stopping.
int Progress(void* stop, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(stop)->load() ? 1 : 0;
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

void PushSender::GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }

PushSender::PushSender(PushOptions options, IsConnected is_connected)
    : options_(std::move(options)),
      is_connected_(std::move(is_connected)),
      queue_(PushPolicy{.coalesce_ms = options_.coalesce_ms,
                        .max_age_ms = int64_t{options_.max_age_s} * 1000,
                        .backoff_initial_ms = 1000,
                        .backoff_max_ms = 60000}),
      thread_([this] { Run(); }) {}

PushSender::~PushSender() {
  {
    // Under the lock: the thread checks stop_ and starts waiting while it
    // holds it, so the notification cannot fall between the two.
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PushSender::Add(std::vector<storage::PushDue> due) {
  if (due.empty()) return;
  {
    std::lock_guard lock(mu_);
    const int64_t now = NowMs();
    for (auto& d : due) queue_.Add(std::move(d), now);
  }
  cv_.notify_all();
}

void PushSender::Received(const std::string& user, int32_t offset) {
  std::lock_guard lock(mu_);
  queue_.Received(user, offset);
}

PushSender::Outcome PushSender::Take() {
  std::lock_guard lock(mu_);
  return std::exchange(outcome_, Outcome{});
}

void PushSender::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    const int64_t now = NowMs();
    auto batch = queue_.Next(now);
    if (!batch) {
      auto due = queue_.NextDue();
      if (due) {
        cv_.wait_for(lock, std::chrono::milliseconds(*due - now));
      } else {
        cv_.wait(lock);
      }
      continue;
    }
    lock.unlock();
    std::string note;
    PushAnswer answer = PushAnswer::kDropped;
    if (is_connected_(batch->user, batch->device)) {
      ++counters_.skipped_connected;  // it gets the message live or by its own sync
    } else {
      answer = Post(*batch, &note);
    }
    lock.lock();
    if (stop_ && answer == PushAnswer::kRetry) break;  // aborted: stays due in the store
    Settled s = queue_.Settle(*batch, answer, NowMs());
    outcome_.done.insert(outcome_.done.end(), s.done.begin(), s.done.end());
    if (s.unregister) outcome_.unregister.push_back({batch->user, batch->device, 0});
    if (s.gave_up) ++counters_.gave_up;
    if (!note.empty()) outcome_.log.push_back(std::move(note));
  }
}

PushAnswer PushSender::Post(const PushBatch& batch, std::string* note) {
  const storage::PushDue& latest = batch.items.back();
  const std::string body = PushBody(latest, batch.items.size(), options_.payload);
  CURL* curl = curl_easy_init();
  if (!curl) {
    *note = "push: curl_easy_init failed";
    return PushAnswer::kRetry;
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("Idempotency-Key: " + IdempotencyKey(latest)).c_str());
  if (!options_.secret.empty()) {
    headers =
        curl_slist_append(headers, ("X-Courier-Signature: sha256=" + HmacSha256Hex(options_.secret, body)).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM in the broker's process
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, Progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stop_);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  ++counters_.calls;
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);

  const std::string who = batch.user + "/" + batch.device;
  if (rc != CURLE_OK) {
    ++counters_.failed;
    *note = "push: " + who + ": " + curl_easy_strerror(rc) + "; retrying";
    return PushAnswer::kRetry;
  }
  if (status >= 200 && status < 300) {
    ++counters_.delivered;
    return PushAnswer::kDelivered;
  }
  if (status == 404 || status == 410) {
    ++counters_.rejected;
    *note = "push: " + who + ": gateway answered " + std::to_string(status) + "; registration removed";
    return PushAnswer::kRejected;
  }
  ++counters_.failed;
  if (status >= 500 || status == 429 || status == 408) {
    *note = "push: " + who + ": gateway answered " + std::to_string(status) + "; retrying";
    return PushAnswer::kRetry;
  }
  *note = "push: " + who + ": gateway answered " + std::to_string(status) + "; push dropped";
  return PushAnswer::kDropped;
}

}  // namespace courier::push
