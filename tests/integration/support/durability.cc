#include "support/durability.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "proc/temp_dir.h"

namespace courier::it {

std::optional<v1::Signal> SendOutcome(CourierDevice& d, const std::string& id, std::chrono::milliseconds timeout) {
  const std::string events = d.events();
  const std::string device_events = d.device_events();
  auto r = d.client().WaitFor(
      [&](const Received& rec) {
        if (rec.topic != events && rec.topic != device_events) return false;
        auto s = ParseSignal(rec.payload);
        if (!s || s->id() != id) return false;
        if (rec.topic == events) return IsSenderAck(*s);
        return s->has_error();
      },
      timeout);
  if (!r) return std::nullopt;
  return ParseSignal(r->payload);
}

std::optional<v1::Signal> SendAndWaitOutcome(CourierDevice& d, const v1::Message& m) {
  auto sent = d.Send(m);
  if (!sent) {
    ADD_FAILURE() << sent.message();
    return std::nullopt;
  }
  return SendOutcome(d, m.id());
}

::testing::AssertionResult Acked(const std::optional<v1::Signal>& outcome, CourierDevice& d) {
  if (!outcome) {
    return ::testing::AssertionFailure() << "no ack and no error within " << kWait.count() << " ms; " << d.user() << "/"
                                         << d.device() << " has queued:\n"
                                         << d.Pending();
  }
  if (!IsSenderAck(*outcome)) return ::testing::AssertionFailure() << "got " << Describe(*outcome);
  return ::testing::AssertionSuccess();
}

bool IsTransientError(const v1::Signal& s, const std::string& code) {
  const std::string prefix = code + ":";
  return s.type() == kResponse && !s.signal_offset_state() && s.has_error() &&
         s.error().compare(0, prefix.size(), prefix) == 0;
}

::testing::AssertionResult PullWholeLog(CourierDevice& d, std::map<int32_t, v1::Message>* entries, int32_t* head) {
  entries->clear();
  int32_t after = 0;
  for (int round = 0; round < 10000; ++round) {
    v1::Signal pull = PullRequest(after, 1000);
    pull.set_id("whole-log-" + std::to_string(round));
    auto sent = d.Signal(pull);
    if (!sent) return sent;
    auto resp = d.NextDeviceEvent([&](const v1::Signal& s) {
      return s.id() == pull.id() && (s.has_error() || (s.type() == kResponse && s.signal_request() == kPull));
    });
    if (!resp) {
      return ::testing::AssertionFailure() << "no pull response after offset " << after << "; still queued:\n"
                                           << d.Pending();
    }
    if (resp->has_error()) return ::testing::AssertionFailure() << "pull failed: " << Describe(*resp);
    // The entries come before the response (QoS 1, one client: in order).
    auto got = d.DrainDeviceInbox();
    if (got.size() != resp->limit()) {
      return ::testing::AssertionFailure()
             << "pull after " << after << " announced " << resp->limit() << " entries, " << got.size() << " arrived";
    }
    for (auto& m : got) {
      int32_t off = m.signal_offset();
      if (!entries->emplace(off, std::move(m)).second) {
        return ::testing::AssertionFailure() << "offset " << off << " pulled twice";
      }
      after = std::max(after, off);
    }
    *head = resp->signal_offset();
    if (after >= *head || got.empty()) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "log never ended";
}

size_t CountLines(const std::string& text, const std::string& needle, std::string* first) {
  size_t n = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(needle) == std::string::npos) continue;
    if (n == 0 && first != nullptr) *first = line;
    ++n;
  }
  return n;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) {
    if (::umount2(path_.c_str(), 0) != 0) {
      // Something still holds a file open; detach it so the test run ends clean.
      ::umount2(path_.c_str(), MNT_DETACH);
    }
  }
  if (!path_.empty()) ::rmdir(path_.c_str());
}

::testing::AssertionResult TmpfsMount::Mount(const std::string& options) {
  std::string error;
  path_ = proc::MakeTempDir("courier-it-tmpfs-", "/tmp", &error);
  if (path_.empty()) return ::testing::AssertionFailure() << error;
  if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
    return ::testing::AssertionFailure()
           << "cannot mount a tmpfs (" << options << ") on " << path_ << ": " << std::strerror(errno)
           << ". This test needs root (CAP_SYS_ADMIN) to make a small or read-only file system; "
              "run it as root (CI does).";
  }
  mounted_ = true;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult TmpfsMount::RemountReadOnly() {
  if (::mount(nullptr, path_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
    return ::testing::AssertionFailure() << "remount read-only of " << path_ << ": " << std::strerror(errno);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult FillUp(const std::string& path, uint64_t* written) {
  *written = 0;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return ::testing::AssertionFailure() << "open " << path << ": " << std::strerror(errno);
  std::string chunk(64 * 1024, 'x');
  size_t size = chunk.size();
  // Halve the chunk on ENOSPC down to one byte, so not even a byte is left.
  while (size > 0) {
    ssize_t n = ::write(fd, chunk.data(), size);
    if (n > 0) {
      *written += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno != ENOSPC) {
      int e = errno;
      ::close(fd);
      return ::testing::AssertionFailure() << "write " << path << ": " << std::strerror(e);
    }
    size /= 2;
  }
  ::fsync(fd);
  ::close(fd);
  return ::testing::AssertionSuccess();
}

}  // namespace courier::it
