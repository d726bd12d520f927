// Text helpers of the suite's report: numbers as the report prints them,
// and the configurations' labels.
#pragma once

#include <cstdint>
#include <string>

#include "broker.h"
#include "load.h"

namespace courier::bench {

// printf into a std::string (at most 4 KiB).
std::string Fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
// Nanoseconds as milliseconds with two decimals.
std::string Ms(int64_t ns);
// A rate: no decimals from 100 up, else one.
std::string Rate(double v);
// Kilobytes as MiB with one decimal.
std::string Mb(int64_t kb);
// The report's name of a configuration, e.g. "(a) plain QoS1 relay".
const char* Label(BrokerKind k);
// "<stalled ms> (<worst ms>)", with ", disturbed" when the stalls may set
// the tail.
std::string StallText(const LoadResult& r);

}  // namespace courier::bench
