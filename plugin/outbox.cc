#include "outbox.h"

#include <iterator>

namespace courier::plugin {
namespace {

template <typename T>
void Append(std::vector<T>* to, std::vector<T>* from) {
  if (to->empty()) {
    to->swap(*from);
  } else {
    to->insert(to->end(), std::make_move_iterator(from->begin()), std::make_move_iterator(from->end()));
  }
}

}  // namespace

void Outbox::Put(Contents more) {
  std::lock_guard lk(mu_);
  Append(&contents_.publishes, &more.publishes);
  Append(&contents_.failures, &more.failures);
}

Outbox::Contents Outbox::Take() {
  Contents out;
  std::lock_guard lk(mu_);
  out.publishes.swap(contents_.publishes);
  out.failures.swap(contents_.failures);
  return out;
}

}  // namespace courier::plugin
